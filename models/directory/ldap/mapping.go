package ldap

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"
)

// Mapping says which attributes hold a user's fields.
type Mapping struct {
	ID            string // the stable id: objectGUID (AD) or entryUUID (OpenLDAP)
	BinaryGUID    bool   // ID is a 16-byte GUID (objectGUID) rather than a string
	Email         string
	FirstName     string
	LastName      string
	Phone         string
	DefaultFilter string // used when Config.UserFilter is empty
	InChain       bool   // the server knows LDAP_MATCHING_RULE_IN_CHAIN (AD)
	// Disabled: AD's userAccountControl with the ACCOUNTDISABLE bit, or an attribute equal to a
	// value (compared without case) for other directories. Both empty means never disabled.
	AccountControl string
	DisabledAttr   string
	DisabledValue  string
}

// Preset names of SPEC §13 (`--preset ad|openldap`).
const (
	PresetAD       = "ad"
	PresetOpenLDAP = "openldap"
)

// accountDisable is userAccountControl's ACCOUNTDISABLE flag.
const accountDisable = 0x2

// Preset returns the mapping a preset name stands for.
func Preset(name string) (Mapping, error) {
	switch name {
	case PresetAD:
		return Mapping{
			ID: "objectGUID", BinaryGUID: true, Email: "mail", FirstName: "givenName", LastName: "sn",
			Phone: "telephoneNumber", AccountControl: "userAccountControl", InChain: true,
			DefaultFilter: "(&(objectCategory=person)(objectClass=user))",
		}, nil
	case PresetOpenLDAP:
		return Mapping{
			ID: "entryUUID", Email: "mail", FirstName: "givenName", LastName: "sn",
			Phone: "telephoneNumber", DefaultFilter: "(objectClass=inetOrgPerson)",
		}, nil
	}
	return Mapping{}, fmt.Errorf("%w: unknown preset %q (ad or openldap)", ErrConfig, name)
}

func (m Mapping) attributes() []string {
	attrs := []string{m.ID}
	for _, a := range []string{m.Email, m.FirstName, m.LastName, m.Phone, m.AccountControl, m.DisabledAttr} {
		if a != "" {
			attrs = append(attrs, a)
		}
	}
	return attrs
}

func (m Mapping) user(e *goldap.Entry) DirectoryUser {
	u := DirectoryUser{
		DN:        e.DN,
		Email:     strings.TrimSpace(e.GetAttributeValue(m.Email)),
		FirstName: e.GetAttributeValue(m.FirstName),
		LastName:  e.GetAttributeValue(m.LastName),
		Phone:     e.GetAttributeValue(m.Phone),
	}
	if m.BinaryGUID {
		u.ID = GUIDString(e.GetRawAttributeValue(m.ID))
	} else {
		u.ID = strings.ToLower(e.GetAttributeValue(m.ID))
	}
	if m.AccountControl != "" {
		uac, err := strconv.ParseInt(e.GetAttributeValue(m.AccountControl), 10, 64)
		u.Disabled = err == nil && uac&accountDisable != 0
	}
	if m.DisabledAttr != "" {
		for _, v := range e.GetAttributeValues(m.DisabledAttr) {
			if strings.EqualFold(v, m.DisabledValue) {
				u.Disabled = true
			}
		}
	}
	return u
}

// idFilter matches one stable id. A GUID is stored little-endian in its first three fields, so the
// filter escapes the raw bytes in that order rather than the text form.
func (m Mapping) idFilter(id string) (string, error) {
	if !m.BinaryGUID {
		return "(" + m.ID + "=" + goldap.EscapeFilter(id) + ")", nil
	}
	raw, err := GUIDBytes(id)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("(" + m.ID + "=")
	for _, c := range raw {
		fmt.Fprintf(&b, "\\%02x", c)
	}
	b.WriteString(")")
	return b.String(), nil
}

// guidOrder is where each byte of the text form comes from in the 16 raw bytes.
var guidOrder = [16]int{3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15}

// GUIDString turns a raw objectGUID into its canonical text form; anything but 16 bytes gives "".
func GUIDString(raw []byte) string {
	if len(raw) != 16 {
		return ""
	}
	var ordered [16]byte
	for i, from := range guidOrder {
		ordered[i] = raw[from]
	}
	h := hex.EncodeToString(ordered[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// GUIDBytes is GUIDString's inverse.
func GUIDBytes(s string) ([]byte, error) {
	ordered, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(ordered) != 16 || len(s) != 36 {
		return nil, fmt.Errorf("%w: %q is not a GUID", ErrConfig, s)
	}
	raw := make([]byte, 16)
	for i, from := range guidOrder {
		raw[from] = ordered[i]
	}
	return raw, nil
}
