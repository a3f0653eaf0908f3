package directory

import (
	"encoding/json"
	"regexp"
	"strings"

	"onramp/models/users"
)

// PatchRequest is a SCIM PATCH body (RFC 7644 §3.5.2).
type PatchRequest struct {
	Schemas    []string  `json:"schemas"`
	Operations []PatchOp `json:"Operations"`
}

// PatchOp is one operation; Value stays raw as its shape depends on the path.
type PatchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// typedValue matches the filtered paths the identity providers send, such as
// emails[type eq "work"].value (lower-cased first).
var typedValue = regexp.MustCompile(`^(emails|phonenumbers)\[type eq "([a-z]+)"\]\.value$`)

// Apply runs the operations on p in order. Ops are read in any case (Entra ID sends
// "Replace"), booleans may be strings, a path-less add or replace takes a map whose keys may be
// dotted paths. An operation on an attribute Onramp does not map is ignored: one unknown
// attribute in Entra's batch must never block the active:false beside it.
func (r *PatchRequest) Apply(p *users.DirectoryProfile) error {
	for _, op := range r.Operations {
		kind := strings.ToLower(op.Op)
		if kind != "add" && kind != "replace" && kind != "remove" {
			return &Error{Status: 400, Type: "invalidSyntax", Detail: "Unknown PATCH op " + op.Op + "."}
		}
		if kind == "remove" {
			remove(p, op.Path)
			continue
		}
		if op.Path != "" {
			if err := setPath(p, op.Path, op.Value); err != nil {
				return err
			}
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(op.Value, &m); err != nil {
			return &Error{Status: 400, Type: "invalidSyntax", Detail: "A PATCH op without a path needs an object value."}
		}
		for k, v := range m {
			if err := setPath(p, k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// setPath sets one mapped attribute; others are ignored.
func setPath(p *users.DirectoryProfile, path string, v json.RawMessage) error {
	str := func(dst *string) error {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return &Error{Status: 400, Type: "invalidValue", Detail: "Expected a string for " + path + "."}
		}
		*dst = s
		return nil
	}
	ptr := func(dst **string) error {
		var s string
		if err := str(&s); err != nil {
			return err
		}
		*dst = &s
		return nil
	}
	name := strings.ToLower(stripURN(strings.TrimSpace(path)))
	switch name {
	case "active":
		b, ok := parseBool(v)
		if !ok {
			return &Error{Status: 400, Type: "invalidValue", Detail: "Expected a boolean for active."}
		}
		p.Active = b
	case "username":
		return ptr(&p.UserName)
	case "name.givenname":
		return str(&p.FirstName)
	case "name.familyname":
		return str(&p.LastName)
	case "externalid":
		return ptr(&p.ExternalID)
	case "name":
		var n Name
		if err := json.Unmarshal(v, &n); err != nil {
			return &Error{Status: 400, Type: "invalidValue", Detail: "Expected an object for name."}
		}
		if n.GivenName != "" {
			p.FirstName = n.GivenName
		}
		if n.FamilyName != "" {
			p.LastName = n.FamilyName
		}
	case "emails", "phonenumbers":
		var vs []MultiValue
		if err := json.Unmarshal(v, &vs); err != nil {
			return &Error{Status: 400, Type: "invalidValue", Detail: "Expected a list for " + path + "."}
		}
		if s := pick(vs); s != "" && name == "emails" {
			p.Email = s
		} else if s != "" {
			p.Phone = s
		}
	default:
		m := typedValue.FindStringSubmatch(name)
		if m == nil || m[2] != "work" {
			return nil
		}
		if m[1] == "emails" {
			return str(&p.Email)
		}
		return str(&p.Phone)
	}
	return nil
}

// remove clears what can be cleared: the phone and the externalId (a user keeps a name and
// an email; removing them is ignored like an unmapped attribute).
func remove(p *users.DirectoryProfile, path string) {
	name := strings.ToLower(stripURN(strings.TrimSpace(path)))
	switch {
	case name == "externalid":
		p.ExternalID = nil
	case name == "phonenumbers" || name == `phonenumbers[type eq "work"].value` || name == `phonenumbers[type eq "work"]`:
		p.Phone = ""
	}
}
