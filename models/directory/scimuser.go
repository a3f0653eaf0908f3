package directory

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"onramp/models"
	"onramp/models/users"
)

// User is the SCIM User resource as Onramp maps it: userName (kept as the directory spells it,
// unique in the directory case-insensitively), the "work" email (unique in the account) and
// phone number, name, active, externalId.
type User struct {
	Schemas      []string     `json:"schemas"`
	ID           string       `json:"id,omitempty"`
	ExternalID   *string      `json:"externalId,omitempty"`
	UserName     string       `json:"userName"`
	Name         *Name        `json:"name,omitempty"`
	DisplayName  string       `json:"displayName,omitempty"`
	Emails       []MultiValue `json:"emails,omitempty"`
	PhoneNumbers []MultiValue `json:"phoneNumbers,omitempty"`
	Active       *Bool        `json:"active,omitempty"`
	Meta         *Meta        `json:"meta,omitempty"`
}

// Name is the name complex attribute.
type Name struct {
	GivenName  string `json:"givenName,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
	Formatted  string `json:"formatted,omitempty"`
}

// MultiValue is one of emails or phoneNumbers.
type MultiValue struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Primary Bool   `json:"primary,omitempty"`
}

// Meta is the resource's metadata.
type Meta struct {
	ResourceType string    `json:"resourceType"`
	Created      time.Time `json:"created"`
	LastModified time.Time `json:"lastModified"`
	Location     string    `json:"location,omitempty"`
}

// Bool is a SCIM boolean: Entra ID sends the strings "True" and "False".
type Bool bool

// UnmarshalJSON accepts true/false and their strings in any case.
func (b *Bool) UnmarshalJSON(data []byte) error {
	v, ok := parseBool(json.RawMessage(data))
	if !ok {
		return &Error{Status: 400, Type: "invalidValue", Detail: "Expected a boolean, got " + string(data) + "."}
	}
	*b = Bool(v)
	return nil
}

func parseBool(raw json.RawMessage) (bool, bool) {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return false, false
	}
	switch t := v.(type) {
	case bool:
		return t, true
	case string:
		b, err := strconv.ParseBool(strings.ToLower(t))
		return b, err == nil
	}
	return false, false
}

// resource is the SCIM view of an SDP user.
func resource(u *models.SDPUser) *User {
	active := Bool(u.Status == models.UserEnabled)
	name := u.Email
	if u.UserName != nil {
		name = *u.UserName
	}
	r := &User{Schemas: []string{SchemaUser}, ID: strconv.FormatInt(u.ID, 10), ExternalID: u.ExternalID, UserName: name,
		Name: &Name{GivenName: u.FirstName, FamilyName: u.LastName, Formatted: u.FullName()}, DisplayName: u.FullName(),
		Emails: []MultiValue{{Value: u.Email, Type: "work", Primary: true}}, Active: &active,
		Meta: &Meta{ResourceType: "User", Created: u.CreatedAt, LastModified: u.UpdatedAt}}
	if u.Phone != "" {
		r.PhoneNumbers = []MultiValue{{Value: u.Phone, Type: "work"}}
	}
	return r
}

// check refuses a User without the one attribute RFC 7643 requires.
func (u *User) check() error {
	if strings.TrimSpace(u.UserName) == "" {
		return &Error{Status: 400, Type: "invalidValue", Detail: "userName is required."}
	}
	return nil
}

// profile is what a full User (POST, PUT) sets: the email is the work (else primary) email,
// or the userName when there is none (Entra ID's userName is the UPN, which is not always the
// mail address); a missing name falls back to displayName, then to the email's local part, as
// the console needs one.
func (u *User) profile() users.DirectoryProfile {
	userName := u.UserName
	p := users.DirectoryProfile{ExternalID: u.ExternalID, UserName: &userName, Active: u.Active == nil || bool(*u.Active)}
	p.Email = pick(u.Emails)
	if p.Email == "" {
		p.Email = u.UserName
	}
	if u.Name != nil {
		p.FirstName, p.LastName = u.Name.GivenName, u.Name.FamilyName
	}
	p.Phone = pick(u.PhoneNumbers)
	fillNames(&p, u.DisplayName)
	return p
}

// fillNames completes a profile's missing names.
func fillNames(p *users.DirectoryProfile, display string) {
	display = strings.TrimSpace(display)
	if p.FirstName == "" && p.LastName == "" && display != "" {
		if i := strings.LastIndexByte(display, ' '); i > 0 {
			p.FirstName, p.LastName = display[:i], display[i+1:]
		} else {
			p.FirstName = display
		}
	}
	local, _, _ := strings.Cut(p.Email, "@")
	if p.FirstName == "" {
		p.FirstName = local
	}
	if p.LastName == "" {
		p.LastName = p.FirstName
	}
}

// pick is the work value of a multi-valued attribute, else the primary one, else the first.
func pick(vs []MultiValue) string {
	for _, v := range vs {
		if strings.EqualFold(v.Type, "work") {
			return v.Value
		}
	}
	for _, v := range vs {
		if v.Primary {
			return v.Value
		}
	}
	if len(vs) > 0 {
		return vs[0].Value
	}
	return ""
}
