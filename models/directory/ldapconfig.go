package directory

import (
	"context"
	"strconv"

	"onramp/models"
	"onramp/models/directory/ldap"
	"onramp/models/store"
	"onramp/models/twostep"
)

// ldapConfig is the connection a directory's settings describe, with its bind password opened.
func ldapConfig(l *models.LDAPSettings, password string) ldap.Config {
	m, err := ldap.Preset(l.Preset)
	if err != nil {
		m = ldap.Mapping{}
	}
	m.ID, m.Email, m.FirstName, m.LastName, m.Phone = l.AttrID, l.AttrEmail, l.AttrFirstName, l.AttrLastName, l.AttrPhone
	m.BinaryGUID = l.AttrID == "objectGUID"
	m.DisabledAttr, m.DisabledValue = l.DisabledAttr, l.DisabledValue
	return ldap.Config{
		URL: l.URL, StartTLS: l.StartTLS, CAPEM: []byte(l.CAPEM), SkipVerify: l.SkipVerify,
		BindDN: l.BindDN, Password: password, BaseDN: l.BaseDN, UserFilter: l.UserFilter,
		GroupDN: l.GroupDN, Mapping: m,
	}
}

// presetSettings fills the mapping columns from a preset (ad or openldap).
func presetSettings(l *models.LDAPSettings) error {
	m, err := ldap.Preset(l.Preset)
	if err != nil {
		return err
	}
	l.AttrID, l.AttrEmail, l.AttrFirstName, l.AttrLastName, l.AttrPhone = m.ID, m.Email, m.FirstName, m.LastName, m.Phone
	return nil
}

// passwordAAD binds a sealed bind password to its directory: copied into another row, it
// does not open.
func passwordAAD(l *models.LDAPSettings) string {
	return "ldap-password|" + strconv.FormatInt(l.AccountID, 10) + "|" + strconv.FormatInt(l.DirectoryID, 10)
}

// sealPassword stores password sealed in l (l.AccountID and l.DirectoryID must be set).
func (s *Service) sealPassword(l *models.LDAPSettings, password string) {
	l.PasswordSealed = s.box.Seal(password, passwordAAD(l))
}

// openPassword returns the bind password of l.
func (s *Service) openPassword(l *models.LDAPSettings) (string, error) {
	if l.PasswordSealed == "" {
		return "", nil
	}
	return s.box.Open(l.PasswordSealed, passwordAAD(l))
}

// ResealPasswords rewrites LDAP bind passwords sealed under the previous ONRAMP_SECRET under
// the current one (onramp secret reseal).
func (s *Service) ResealPasswords(ctx context.Context) (store.Resealed, error) {
	return twostep.Reseal(ctx, s.store, store.SealedLDAPPassword, s.box, func(v store.Sealed) string {
		return passwordAAD(&models.LDAPSettings{AccountID: v.AccountID, DirectoryID: v.ID})
	})
}
