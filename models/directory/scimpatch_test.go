package directory

import (
	"encoding/json"
	"testing"

	"onramp/models/users"
)

// The shapes Okta and Entra ID send (Entra with and without the aadOptscim062020 flag).
func TestApplyPatch(t *testing.T) {
	t.Parallel()
	ext := "x1"
	base := users.DirectoryProfile{CreateInput: users.CreateInput{FirstName: "Ann", LastName: "Lee", Email: "ann@example.com"}, Active: true, ExternalID: &ext}
	tests := []struct {
		name, body string
		check      func(p users.DirectoryProfile) bool
	}{
		{"okta deactivate", `{"Operations":[{"op":"replace","value":{"active":false}}]}`,
			func(p users.DirectoryProfile) bool { return !p.Active }},
		{"entra capitalised op and string boolean", `{"Operations":[{"op":"Replace","path":"active","value":"False"}]}`,
			func(p users.DirectoryProfile) bool { return !p.Active }},
		{"string True", `{"Operations":[{"op":"Replace","path":"active","value":"True"}]}`,
			func(p users.DirectoryProfile) bool { return p.Active }},
		{"path-less map with dotted keys", `{"Operations":[{"op":"Replace","value":{"name.givenName":"Bo","name.familyName":"Kay","active":"False"}}]}`,
			func(p users.DirectoryProfile) bool { return p.FirstName == "Bo" && p.LastName == "Kay" && !p.Active }},
		{"filtered email path", `{"Operations":[{"op":"Add","path":"emails[type eq \"work\"].value","value":"new@example.com"}]}`,
			func(p users.DirectoryProfile) bool { return p.Email == "new@example.com" }},
		{"filtered phone path", `{"Operations":[{"op":"Add","path":"phoneNumbers[type eq \"work\"].value","value":"+1 555"}]}`,
			func(p users.DirectoryProfile) bool { return p.Phone == "+1 555" }},
		{"externalId and displayName", `{"Operations":[{"op":"Replace","path":"externalId","value":"x2"},{"op":"replace","path":"displayName","value":"Cy Dee"}]}`,
			func(p users.DirectoryProfile) bool { return *p.ExternalID == "x2" }},
		{"unknown attribute does not block active", `{"Operations":[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"X"},{"op":"Replace","path":"title","value":"Boss"},{"op":"Replace","path":"active","value":"False"}]}`,
			func(p users.DirectoryProfile) bool { return !p.Active && p.FirstName == "Ann" }},
		{"name object", `{"Operations":[{"op":"replace","path":"name","value":{"givenName":"Di"}}]}`,
			func(p users.DirectoryProfile) bool { return p.FirstName == "Di" && p.LastName == "Lee" }},
		{"remove externalId", `{"Operations":[{"op":"Remove","path":"externalId"}]}`,
			func(p users.DirectoryProfile) bool { return p.ExternalID == nil }},
		{"urn-prefixed userName", `{"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:userName","value":"z@example.com"}]}`,
			func(p users.DirectoryProfile) bool {
				return *p.UserName == "z@example.com" && p.Email == "ann@example.com"
			}},
	}
	for _, tt := range tests {
		var req PatchRequest
		if err := json.Unmarshal([]byte(tt.body), &req); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		p := base
		if err := req.Apply(&p); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !tt.check(p) {
			t.Errorf("%s: got %+v", tt.name, p)
		}
	}
}

func TestApplyPatchRefusesABadOp(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{"Operations":[{"op":"move","path":"active","value":true}]}`,
		`{"Operations":[{"op":"replace","path":"active","value":"maybe"}]}`} {
		var req PatchRequest
		if err := json.Unmarshal([]byte(body), &req); err != nil {
			t.Fatal(err)
		}
		p := users.DirectoryProfile{}
		if err := req.Apply(&p); err == nil {
			t.Errorf("%s: accepted", body)
		}
	}
}
