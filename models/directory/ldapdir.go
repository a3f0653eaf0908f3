package directory

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"onramp/models"
	"onramp/models/directory/ldap"
	"onramp/models/store"
)

// LDAPInput is an LDAP directory's settings as an admin enters them (the console's form and
// `onramp directory add-ldap`). Empty attribute fields take the preset's.
type LDAPInput struct {
	Name          string // at creation only: the users' origin is directory:<name>
	Preset        string // ad or openldap
	URL           string
	StartTLS      bool
	CAPEM         string
	SkipVerify    bool
	BindDN        string
	Password      string // on edit, empty keeps the stored one
	BaseDN        string
	UserFilter    string // empty: the preset's default
	GroupDN       string
	AttrID        string
	AttrEmail     string
	AttrFirstName string
	AttrLastName  string
	AttrPhone     string
	DisabledAttr  string
	DisabledValue string
	ScheduleHours int
	LimitCount    int
	LimitPercent  int
}

// Default safety limits of a new LDAP directory: a sync may disable or delete at most 10 users
// and at most 10% of them.
const (
	DefaultLimitCount   = 10
	DefaultLimitPercent = 10
	// MaxScheduleHours is a year: a longer schedule is a typo.
	MaxScheduleHours = 8760
)

// NewLDAPInput is a new directory's form: the preset's mapping and the default limits.
func NewLDAPInput(preset string) LDAPInput {
	if preset != ldap.PresetOpenLDAP {
		preset = ldap.PresetAD
	}
	in := LDAPInput{Preset: preset, LimitCount: DefaultLimitCount, LimitPercent: DefaultLimitPercent}
	in.fillMapping()
	return in
}

// fillMapping gives the empty attribute fields the preset's attributes.
func (in *LDAPInput) fillMapping() {
	m, err := ldap.Preset(in.Preset)
	if err != nil {
		return
	}
	for _, f := range []struct {
		field *string
		v     string
	}{
		{&in.AttrID, m.ID}, {&in.AttrEmail, m.Email}, {&in.AttrFirstName, m.FirstName},
		{&in.AttrLastName, m.LastName}, {&in.AttrPhone, m.Phone},
	} {
		if *f.field == "" {
			*f.field = f.v
		}
	}
}

// DefaultFilter is the user filter of a preset ("" for an unknown one).
func DefaultFilter(preset string) string {
	m, _ := ldap.Preset(preset)
	return m.DefaultFilter
}

// attrName is an LDAP attribute description: a name or an OID.
var attrName = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)+)$`)

// normalize trims the fields and fills the mapping; validate checks them.
func (in *LDAPInput) normalize() {
	for _, f := range []*string{&in.Name, &in.Preset, &in.URL, &in.BindDN, &in.BaseDN, &in.UserFilter, &in.GroupDN,
		&in.AttrID, &in.AttrEmail, &in.AttrFirstName, &in.AttrLastName, &in.AttrPhone, &in.DisabledAttr, &in.DisabledValue} {
		*f = strings.TrimSpace(*f)
	}
	in.CAPEM = strings.TrimSpace(in.CAPEM)
	in.Preset = strings.ToLower(in.Preset)
	in.fillMapping()
}

// validate checks every field; creating says whether a password is required.
func (in *LDAPInput) validate(creating bool) *models.ValidationError {
	v := &models.ValidationError{}
	if creating && (in.Name == "" || len(in.Name) > 100) {
		v.Add("name", "Enter a directory name of at most 100 characters.")
	}
	if in.Preset != ldap.PresetAD && in.Preset != ldap.PresetOpenLDAP {
		v.Add("preset", "Choose Active Directory or OpenLDAP.")
	}
	if u, err := url.Parse(in.URL); err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Hostname() == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		v.Add("url", "Enter the server as ldap://host[:port] or ldaps://host[:port], for example ldaps://dc.example.com:636.")
	} else if in.StartTLS && u.Scheme == "ldaps" {
		v.Add("start_tls", "StartTLS is for ldap:// URLs: an ldaps:// connection is encrypted from the start. Untick it or use ldap://.")
	}
	if in.CAPEM != "" {
		if msg := checkCAPEM(in.CAPEM); msg != "" {
			v.Add("ca_pem", msg)
		}
	}
	checkDN(v, "bind_dn", "bind DN", in.BindDN, true)
	if creating && in.Password == "" {
		v.Add("password", "Enter the bind password.")
	}
	if len(in.Password) > 1024 {
		v.Add("password", "The bind password is longer than 1,024 characters.")
	}
	checkDN(v, "base_dn", "base DN", in.BaseDN, true)
	checkDN(v, "group_dn", "group DN", in.GroupDN, false)
	if err := ldap.CheckFilter(in.UserFilter); err != nil {
		v.Add("user_filter", "This is not an LDAP filter: check the parentheses, e.g. (&(objectClass=user)(mail=*)).")
	}
	for _, a := range []struct {
		field, label, v string
		required        bool
	}{
		{"attr_id", "stable id", in.AttrID, true}, {"attr_email", "email", in.AttrEmail, true},
		{"attr_first_name", "first name", in.AttrFirstName, false}, {"attr_last_name", "last name", in.AttrLastName, false},
		{"attr_phone", "phone", in.AttrPhone, false}, {"disabled_attr", "disabled", in.DisabledAttr, false},
	} {
		if a.v != "" && !attrName.MatchString(a.v) {
			v.Add(a.field, "Enter an attribute name such as mail (letters, digits and hyphens) for the "+a.label+" attribute.")
		}
	}
	if in.DisabledAttr != "" && in.DisabledValue == "" {
		v.Add("disabled_value", "Enter the value that marks a user as disabled, or empty the disabled attribute.")
	}
	if in.DisabledAttr == "" && in.DisabledValue != "" {
		v.Add("disabled_attr", "Enter the attribute that holds this value.")
	}
	if in.ScheduleHours < 0 || in.ScheduleHours > MaxScheduleHours {
		v.Add("schedule_hours", "Enter a whole number of hours from 0 (only Sync now) to "+strconv.Itoa(MaxScheduleHours)+".")
	}
	if in.LimitCount < 0 || in.LimitCount > 1_000_000 {
		v.Add("limit_count", "Enter a whole number of users from 0 to 1,000,000.")
	}
	if in.LimitPercent < 0 || in.LimitPercent > 100 {
		v.Add("limit_percent", "Enter a whole percentage from 0 to 100.")
	}
	return v
}

func checkDN(v *models.ValidationError, field, label, dn string, required bool) {
	if dn == "" {
		if required {
			v.Add(field, "Enter the "+label+", for example cn=reader,dc=example,dc=com.")
		}
		return
	}
	if err := ldap.CheckDN(dn); err != nil {
		v.Add(field, "This is not a DN: write it as attribute=value pairs separated by commas, e.g. ou=people,dc=example,dc=com.")
	}
}

// checkCAPEM accepts one or more PEM certificates and nothing else; it returns the field's
// message, "" when the PEM is good.
func checkCAPEM(s string) string {
	rest, n := []byte(s), 0
	for {
		block, more := pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return "This PEM holds a " + strings.ToLower(block.Type) + ", not a certificate: paste the CA certificate (-----BEGIN CERTIFICATE-----)."
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return "A certificate in this PEM cannot be read: " + err.Error() + "."
		}
		n++
		rest = more
	}
	if n == 0 || strings.TrimSpace(string(rest)) != "" {
		return "Paste the CA certificate in PEM form, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----."
	}
	return ""
}

// apply copies the input into the settings (the password apart).
func (in *LDAPInput) apply(l *models.LDAPSettings) {
	l.URL, l.StartTLS, l.CAPEM, l.SkipVerify = in.URL, in.StartTLS, in.CAPEM, in.SkipVerify
	l.BindDN, l.BaseDN, l.UserFilter, l.GroupDN, l.Preset = in.BindDN, in.BaseDN, in.UserFilter, in.GroupDN, in.Preset
	l.AttrID, l.AttrEmail, l.AttrFirstName, l.AttrLastName, l.AttrPhone = in.AttrID, in.AttrEmail, in.AttrFirstName, in.AttrLastName, in.AttrPhone
	l.DisabledAttr, l.DisabledValue = in.DisabledAttr, in.DisabledValue
	l.ScheduleHours, l.LimitCount, l.LimitPercent = in.ScheduleHours, in.LimitCount, in.LimitPercent
}

// settingsInput is the form of saved settings (the password is never given back).
func settingsInput(d *models.Directory, l *models.LDAPSettings) LDAPInput {
	return LDAPInput{Name: d.Name, Preset: l.Preset, URL: l.URL, StartTLS: l.StartTLS, CAPEM: l.CAPEM, SkipVerify: l.SkipVerify,
		BindDN: l.BindDN, BaseDN: l.BaseDN, UserFilter: l.UserFilter, GroupDN: l.GroupDN,
		AttrID: l.AttrID, AttrEmail: l.AttrEmail, AttrFirstName: l.AttrFirstName, AttrLastName: l.AttrLastName, AttrPhone: l.AttrPhone,
		DisabledAttr: l.DisabledAttr, DisabledValue: l.DisabledValue,
		ScheduleHours: l.ScheduleHours, LimitCount: l.LimitCount, LimitPercent: l.LimitPercent}
}

// settingsDetails are the settings an event records: never the password.
func settingsDetails(in LDAPInput) map[string]string {
	return map[string]string{
		"url": in.URL, "start_tls": strconv.FormatBool(in.StartTLS), "ca_pem": pemLabel(in.CAPEM),
		"skip_verify": strconv.FormatBool(in.SkipVerify), "bind_dn": in.BindDN, "base_dn": in.BaseDN, "user_filter": in.UserFilter,
		"group_dn": in.GroupDN, "preset": in.Preset, "attr_id": in.AttrID, "attr_email": in.AttrEmail, "attr_first_name": in.AttrFirstName,
		"attr_last_name": in.AttrLastName, "attr_phone": in.AttrPhone, "disabled_attr": in.DisabledAttr, "disabled_value": in.DisabledValue,
		"schedule_hours": strconv.Itoa(in.ScheduleHours), "limit_count": strconv.Itoa(in.LimitCount), "limit_percent": strconv.Itoa(in.LimitPercent),
	}
}

// pemLabel names a CA certificate in events by its digest: a change shows, the text does not.
func pemLabel(p string) string {
	if p == "" {
		return "(none)"
	}
	sum := sha256.Sum256([]byte(p))
	return "sha256:" + hex.EncodeToString(sum[:8])
}

// nextSync is when a schedule of hours runs first from now (nil: manual only).
func nextSync(now time.Time, hours int) *time.Time {
	if hours <= 0 {
		return nil
	}
	t := now.Add(time.Duration(hours) * time.Hour)
	return &t
}

// LDAPDirectory is an LDAP directory and its settings as the edit form shows them.
type LDAPDirectory struct {
	Directory models.Directory
	Input     LDAPInput // Password is always empty
}

// requireAdmin refuses helpdesk staff: directories are account settings.
func requireAdmin(actor *models.Admin) error {
	if actor.Role != models.RoleAdmin {
		return models.ErrForbidden
	}
	return nil
}

// nameTaken refuses a name the account has for a directory, in any case: two origins that
// differ only by case would be one to the people reading the Users list.
func nameTaken(ctx context.Context, tx *store.Store, accountID int64, name string) error {
	ds, err := tx.Directories(ctx, accountID)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if strings.EqualFold(d.Name, name) {
			return models.NewValidationError("name", "This account already has a directory named "+d.Name+": choose another name.")
		}
	}
	return nil
}

// CreateLDAPDirectory adds an LDAP directory to the admin's account with its settings and the
// bind password sealed; a Directory / Created event records the settings (never the password).
func (s *Service) CreateLDAPDirectory(ctx context.Context, actor *models.Admin, ip string, in LDAPInput) (*models.Directory, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	return s.createLDAP(ctx, actor.AccountID, models.AdminActor(actor, ip), in)
}

// CreateLDAPDirectoryIn is CreateLDAPDirectory for the command line: the account by name.
func (s *Service) CreateLDAPDirectoryIn(ctx context.Context, accountName string, who models.Actor, in LDAPInput) (*models.Directory, error) {
	account, err := s.store.AccountByName(ctx, accountName)
	if err != nil {
		return nil, err
	}
	return s.createLDAP(ctx, account.ID, who, in)
}

func (s *Service) createLDAP(ctx context.Context, accountID int64, who models.Actor, in LDAPInput) (*models.Directory, error) {
	in.normalize()
	if err := in.validate(true).OrNil(); err != nil {
		return nil, err
	}
	now := s.now()
	d := &models.Directory{AccountID: accountID, Name: in.Name, Kind: models.DirectoryLDAP, CreatedAt: now, UpdatedAt: now}
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		if err := nameTaken(ctx, tx, accountID, in.Name); err != nil {
			return err
		}
		if err := tx.CreateDirectory(ctx, d); err != nil {
			return err
		}
		l := &models.LDAPSettings{DirectoryID: d.ID, AccountID: accountID, NextSyncAt: nextSync(now, in.ScheduleHours), CreatedAt: now, UpdatedAt: now}
		in.apply(l)
		s.sealPassword(l, in.Password)
		if err := tx.CreateLDAPSettings(ctx, l); err != nil {
			return err
		}
		details := settingsDetails(in)
		details["directory"], details["kind"] = d.Name, string(d.Kind)
		return tx.CreateEvent(ctx, models.NewEvent(&accountID, models.EventDirectory, models.SubDirectoryCreated, who, "", details))
	})
	if errors.Is(err, models.ErrConflict) { // a concurrent creation of the same name
		return nil, models.NewValidationError("name", "This account already has a directory named "+in.Name+": choose another name.")
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// LDAPDirectory loads an LDAP directory of the admin's account for its edit form
// (models.ErrNotFound for another account's, or a SCIM directory).
func (s *Service) LDAPDirectory(ctx context.Context, actor *models.Admin, id int64) (*LDAPDirectory, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	d, l, err := s.ldapSettings(ctx, s.store, actor.AccountID, id)
	if err != nil {
		return nil, err
	}
	return &LDAPDirectory{Directory: *d, Input: settingsInput(d, l)}, nil
}

func (s *Service) ldapSettings(ctx context.Context, tx *store.Store, accountID, id int64) (*models.Directory, *models.LDAPSettings, error) {
	d, err := tx.DirectoryByID(ctx, accountID, id)
	if err != nil {
		return nil, nil, err
	}
	if d.Kind != models.DirectoryLDAP {
		return nil, nil, models.ErrNotFound
	}
	l, err := tx.LDAPSettings(ctx, accountID, id)
	if err != nil {
		return nil, nil, err
	}
	return d, l, nil
}

// UpdateLDAPDirectory saves an LDAP directory's settings (its name stays: it is its users'
// origin); an empty password keeps the stored one. A Directory / Updated event lists each
// change as "from → to" (the password only as "changed"). It reports whether anything changed.
func (s *Service) UpdateLDAPDirectory(ctx context.Context, actor *models.Admin, ip string, id int64, in LDAPInput) (bool, error) {
	if err := requireAdmin(actor); err != nil {
		return false, err
	}
	in.normalize()
	if err := in.validate(false).OrNil(); err != nil {
		return false, err
	}
	changed := false
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		d, l, err := s.ldapSettings(ctx, tx, actor.AccountID, id)
		if err != nil {
			return err
		}
		before := settingsDetails(settingsInput(d, l))
		diff := map[string]string{}
		for k, to := range settingsDetails(in) {
			if from := before[k]; from != to {
				diff[k] = from + " → " + to
			}
		}
		if in.Password != "" {
			old, err := s.openPassword(l)
			if err != nil || old != in.Password {
				diff["password"] = "changed"
			}
		}
		if len(diff) == 0 {
			return nil
		}
		changed = true
		now := s.now()
		if in.ScheduleHours != l.ScheduleHours {
			l.NextSyncAt = nextSync(now, in.ScheduleHours)
		}
		in.apply(l)
		if in.Password != "" {
			s.sealPassword(l, in.Password)
		}
		l.UpdatedAt = now
		if err := tx.SaveLDAPSettings(ctx, l); err != nil {
			return err
		}
		diff["directory"] = d.Name
		return tx.CreateEvent(ctx, models.NewEvent(&actor.AccountID, models.EventDirectory, models.SubDirectoryUpdated,
			models.AdminActor(actor, ip), "", diff))
	})
	return changed, err
}
