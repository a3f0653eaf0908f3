package handlers_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"onramp/models"
)

// The request bodies below are Microsoft's own examples, from "Known issues and resolutions
// with SCIM 2.0 protocol compliance of the Microsoft Entra user provisioning service" (what
// Entra ID sends without and with the aadOptscim062020 flag) and "Tutorial: Develop and plan
// provisioning for a SCIM endpoint" (its user and group operations), with their ids and values
// replaced by ours.

// entraFixture is what one documented case runs against: two users of the directory and a
// group holding the first.
type entraFixture struct {
	user, other, group string
	userName           string // the first user's userName (Entra's UPN)
	n                  int    // the case's number: names are unique per case
}

// entraCase is one documented request: its path and body are built from the fixture.
type entraCase struct {
	name   string
	method string
	path   func(f entraFixture) string
	body   func(f entraFixture) string
	status int
	check  func(t *testing.T, a *testApp, f entraFixture, r scimResponse)
}

// entraCreateUser is the tutorial's Create User request.
func entraCreateUser(upn, mail, externalID string) string {
	return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
"externalId":"` + externalID + `","userName":"` + upn + `","active":true,
"emails":[{"primary":true,"type":"work","value":"` + mail + `"}],"meta":{"resourceType":"User"},
"name":{"formatted":"givenName familyName","familyName":"familyName","givenName":"givenName"},"roles":[]}`
}

func patchOps(ops string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + ops + `]}`
}

// runEntraCases runs each case on a fixture of its own; query is appended to every path (the
// flag Entra ID carries over from the Tenant URL).
func runEntraCases(t *testing.T, query string, cases []entraCase) {
	a := newApp(t)
	s := a.scimFor(t, "acme", "Entra ID")
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := strconv.Itoa(i)
			f := entraFixture{n: i, userName: "user" + n + "@contoso.example"}
			r := s.do(http.MethodPost, "/Users", entraCreateUser(f.userName, "user"+n+"@mail.contoso.example", "ext-user"+n))
			f.user = r.str("id")
			f.other = s.do(http.MethodPost, "/Users", entraCreateUser("other"+n+"@contoso.example", "other"+n+"@mail.contoso.example", "ext-other"+n)).str("id")
			f.group = s.do(http.MethodPost, "/Groups", groupBody("Group "+n, f.user)).str("id")
			if f.user == "" || f.other == "" || f.group == "" {
				t.Fatalf("fixture: %+v", f)
			}
			path := tc.path(f)
			if query != "" {
				sep := "?"
				if strings.Contains(path, "?") {
					sep = "&"
				}
				path += sep + query
			}
			body := ""
			if tc.body != nil {
				body = tc.body(f)
			}
			r = s.do(tc.method, path, body)
			if r.status != tc.status || (r.status != http.StatusNoContent && r.ctype != "application/scim+json") {
				t.Fatalf("%s %s: %d %s %s", tc.method, path, r.status, r.ctype, r.raw)
			}
			tc.check(t, a, f, r)
		})
	}
}

func userPath(f entraFixture) string  { return "/Users/" + f.user }
func groupPath(f entraFixture) string { return "/Groups/" + f.group }

// idNum is a SCIM id as the number it is in the database.
func idNum(id string) int64 {
	n, _ := strconv.ParseInt(id, 10, 64)
	return n
}

// storedUser is the SDP user behind a SCIM id.
func storedUser(t *testing.T, a *testApp, id string) *models.SDPUser {
	t.Helper()
	u, err := a.store.User(t.Context(), mustAccount(t, a, "acme"), idNum(id))
	if err != nil {
		t.Fatalf("user %s: %v", id, err)
	}
	return u
}

func expectStatusOf(t *testing.T, a *testApp, id string, want models.UserStatus) {
	t.Helper()
	if u := storedUser(t, a, id); u.Status != want {
		t.Errorf("user %s is %s, want %s", id, u.Status, want)
	}
}

// expectUnchanged checks that the fixture's first user still has the names and email it was
// created with.
func expectUnchanged(t *testing.T, a *testApp, f entraFixture) {
	t.Helper()
	u := storedUser(t, a, f.user)
	if u.FirstName != "givenName" || u.LastName != "familyName" || u.Email != "user"+strconv.Itoa(f.n)+"@mail.contoso.example" ||
		u.Status != models.UserEnabled {
		t.Errorf("the user changed: %+v", u)
	}
}

// expectDeactivated checks that a PATCH answered the fixture's first user as inactive and
// disabled them.
func expectDeactivated(t *testing.T, a *testApp, f entraFixture, r scimResponse) {
	t.Helper()
	if r.body["active"] != false {
		t.Errorf("active = %v: %s", r.body["active"], r.raw)
	}
	expectStatusOf(t, a, f.user, models.UserDisabled)
}

func expectMembers(t *testing.T, r scimResponse, want ...string) {
	t.Helper()
	if got := memberValues(r.body); !slices.Equal(got, sortedIDs(want...)) {
		t.Errorf("members %v, want %v: %s", got, want, r.raw)
	}
}

func listed(r scimResponse) []string {
	var ids []string
	for _, res := range r.resources() {
		ids = append(ids, res["id"].(string))
	}
	return ids
}

// TestSCIMEntraWithoutFlag: the requests Entra ID sends by default (Tenant URL without
// aadOptscim062020): ops capitalised, booleans as the strings "True"/"False", one operation
// per attribute, group members removed by a value list; and the tutorial's user and group
// operations.
func TestSCIMEntraWithoutFlag(t *testing.T) {
	t.Parallel()
	runEntraCases(t, "", []entraCase{
		{name: `Known issues: disable a user without the flag (Replace active "False")`,
			method: http.MethodPatch, path: userPath, status: 200,
			body:  func(entraFixture) string { return patchOps(`{"op":"Replace","path":"active","value":"False"}`) },
			check: expectDeactivated},
		{name: `Known issues: add a single-value string attribute without the flag (Add nickName)`,
			method: http.MethodPatch, path: userPath, status: 200,
			body:  func(entraFixture) string { return patchOps(`{"op":"Add","path":"nickName","value":"Babs"}`) },
			check: func(t *testing.T, a *testApp, f entraFixture, r scimResponse) { expectUnchanged(t, a, f) }},
		{name: `Known issues: replace multiple attributes without the flag (one Replace per attribute)`,
			method: http.MethodPatch, path: userPath, status: 200,
			body: func(entraFixture) string {
				return patchOps(`{"op":"Replace","path":"displayName","value":"Pvlo"},
{"op":"Replace","path":"emails[type eq \"work\"].value","value":"TestBcwqnm@test.microsoft.com"},
{"op":"Replace","path":"name.givenName","value":"Gtfd"},{"op":"Replace","path":"name.familyName","value":"Pkqf"},
{"op":"Replace","path":"externalId","value":"Eqpj"},
{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"Eqpj"}`)
			},
			check: func(t *testing.T, a *testApp, f entraFixture, r scimResponse) {
				u := storedUser(t, a, f.user)
				if u.FirstName != "Gtfd" || u.LastName != "Pkqf" || u.Email != "testbcwqnm@test.microsoft.com" || u.ExternalID == nil || *u.ExternalID != "Eqpj" {
					t.Errorf("after the replace: %+v", u)
				}
			}},
		{name: `Known issues: remove a group member without the flag (Remove members with a value list)`,
			method: http.MethodPatch, path: groupPath, status: 200,
			body: func(f entraFixture) string {
				return patchOps(`{"op":"Remove","path":"members","value":[{"value":"` + f.user + `"}]}`)
			},
			check: func(t *testing.T, _ *testApp, _ entraFixture, r scimResponse) { expectMembers(t, r) }},
		{name: "Tutorial: Create User", method: http.MethodPost, path: func(entraFixture) string { return "/Users" }, status: 201,
			body: func(f entraFixture) string {
				return entraCreateUser("Test_User_"+strconv.Itoa(f.n)+"@contoso.example", "Test_User_"+strconv.Itoa(f.n)+"@testuser.com", "0a21f0f2-"+strconv.Itoa(f.n))
			},
			check: func(t *testing.T, _ *testApp, f entraFixture, r scimResponse) {
				if r.str("id") == "" || r.str("userName") != "Test_User_"+strconv.Itoa(f.n)+"@contoso.example" || r.str("externalId") != "0a21f0f2-"+strconv.Itoa(f.n) ||
					r.body["active"] != true || !strings.EqualFold(workEmail(r.body), "Test_User_"+strconv.Itoa(f.n)+"@testuser.com") {
					t.Errorf("created %s", r.raw)
				}
			}},
		{name: "Tutorial: provision a user (Example 2, attributes sent as null)", method: http.MethodPost,
			path: func(entraFixture) string { return "/Users" }, status: 201,
			body: func(f entraFixture) string {
				n := strconv.Itoa(f.n)
				return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
"externalId":"jyoung` + n + `","userName":"jyoung` + n + `@testuser.com","active":true,"addresses":null,"displayName":"Joy Young",
"emails":[{"type":"work","value":"jyoung` + n + `@Contoso.com","primary":true}],"meta":{"resourceType":"User"},
"name":{"familyName":"Young","givenName":"Joy"},"phoneNumbers":null,"preferredLanguage":null,"title":null,"department":null,"manager":null}`
			},
			check: func(t *testing.T, a *testApp, f entraFixture, r scimResponse) {
				u := storedUser(t, a, r.str("id"))
				if u.FirstName != "Joy" || u.LastName != "Young" || u.Email != "jyoung"+strconv.Itoa(f.n)+"@contoso.com" || u.Phone != "" {
					t.Errorf("created %+v", u)
				}
			}},
		{name: "Tutorial: Get User", method: http.MethodGet, path: userPath, status: 200,
			check: func(t *testing.T, _ *testApp, f entraFixture, r scimResponse) {
				if r.str("id") != f.user || r.str("userName") != f.userName || r.body["active"] != true {
					t.Errorf("got %s", r.raw)
				}
			}},
		{name: "Tutorial: Get User (not found: 404 with detail)", method: http.MethodGet,
			path: func(entraFixture) string { return "/Users/5171999" }, status: 404,
			check: func(t *testing.T, _ *testApp, _ entraFixture, r scimResponse) {
				if r.str("status") != "404" || !strings.Contains(r.str("detail"), "5171999") {
					t.Errorf("got %s", r.raw)
				}
			}},
		{name: "Tutorial: Get User by query (userName eq)", method: http.MethodGet, status: 200,
			path: func(f entraFixture) string { return "/Users?filter=" + urlq(`userName eq "`+f.userName+`"`) },
			check: func(t *testing.T, _ *testApp, f entraFixture, r scimResponse) {
				if ids := listed(r); r.num("totalResults") != 1 || !slices.Equal(ids, []string{f.user}) {
					t.Errorf("listed %v: %s", ids, r.raw)
				}
			}},
		{name: "Get User by query: userName eq in another case finds the user", method: http.MethodGet, status: 200,
			path: func(f entraFixture) string {
				return "/Users?filter=" + urlq(`userName eq "`+strings.ToUpper(f.userName)+`"`)
			},
			check: func(t *testing.T, _ *testApp, f entraFixture, r scimResponse) {
				if ids := listed(r); !slices.Equal(ids, []string{f.user}) {
					t.Errorf("listed %v: %s", ids, r.raw)
				}
			}},
		{name: "Tutorial: Get User by query - Zero results", method: http.MethodGet, status: 200,
			path: func(entraFixture) string { return "/Users?filter=" + urlq(`userName eq "non-existent user"`) },
			check: func(t *testing.T, _ *testApp, _ entraFixture, r scimResponse) {
				if r.num("totalResults") != 0 || !strings.Contains(r.raw, `"Resources":[]`) {
					t.Errorf("got %s", r.raw)
				}
			}},
		{name: "Test Connection: userName eq a random GUID is an empty list", method: http.MethodGet, status: 200,
			path: func(entraFixture) string {
				return "/Users?filter=" + urlq(`userName eq "3c2f4f8e-5b1a-4c1e-9d0a-7e6f5a4b3c2d"`)
			},
			check: func(t *testing.T, _ *testApp, _ entraFixture, r scimResponse) {
				if r.num("totalResults") != 0 || len(r.resources()) != 0 {
					t.Errorf("got %s", r.raw)
				}
			}},
		{name: `Tutorial: query a matching user (Example 1, externalId eq "…")`, method: http.MethodGet, status: 200,
			path: func(f entraFixture) string {
				return "/Users?filter=" + urlq(`externalId eq "ext-user`+strconv.Itoa(f.n)+`"`)
			},
			check: func(t *testing.T, _ *testApp, f entraFixture, r scimResponse) {
				if ids := listed(r); !slices.Equal(ids, []string{f.user}) {
					t.Errorf("listed %v: %s", ids, r.raw)
				}
			}},
		{name: "Tutorial: query a matching user (Example 1 as printed, externalId eq jyoung without quotes)", method: http.MethodGet, status: 200,
			path: func(f entraFixture) string {
				return "/Users?filter=" + urlq(`externalId eq ext-user`+strconv.Itoa(f.n))
			},
			check: func(t *testing.T, _ *testApp, f entraFixture, r scimResponse) {
				if ids := listed(r); !slices.Equal(ids, []string{f.user}) {
					t.Errorf("listed %v: %s", ids, r.raw)
				}
			}},
		{name: `Tutorial: query users by emails[type eq "work"].value`, method: http.MethodGet, status: 200,
			path: func(f entraFixture) string {
				return "/Users?filter=" + urlq(`emails[type eq "work"].value eq "USER`+strconv.Itoa(f.n)+`@mail.contoso.example"`)
			},
			check: func(t *testing.T, _ *testApp, f entraFixture, r scimResponse) {
				if ids := listed(r); !slices.Equal(ids, []string{f.user}) {
					t.Errorf("listed %v: %s", ids, r.raw)
				}
			}},
		{name: "Tutorial: Update User [Multi-valued properties]", method: http.MethodPatch, path: userPath, status: 200,
			body: func(entraFixture) string {
				return patchOps(`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
{"op":"Replace","path":"name.familyName","value":"updatedFamilyName"}`)
			},
			check: func(t *testing.T, _ *testApp, _ entraFixture, r scimResponse) {
				if workEmail(r.body) != "updatedemail@microsoft.com" || r.body["name"].(map[string]any)["familyName"] != "updatedFamilyName" {
					t.Errorf("got %s", r.raw)
				}
			}},
		{name: "Tutorial: Update User [Single-valued properties] (Replace userName)", method: http.MethodPatch, path: userPath, status: 200,
			body: func(f entraFixture) string {
				return patchOps(`{"op":"Replace","path":"userName","value":"5b50642d-` + strconv.Itoa(f.n) + `@testuser.com"}`)
			},
			check: func(t *testing.T, _ *testApp, f entraFixture, r scimResponse) {
				if r.str("userName") != "5b50642d-"+strconv.Itoa(f.n)+"@testuser.com" {
					t.Errorf("got %s", r.raw)
				}
			}},
		{name: "Tutorial: Disable User (Replace active false)", method: http.MethodPatch, path: userPath, status: 200,
			body: func(entraFixture) string {
				return `{"Operations":[{"op":"Replace","path":"active","value":false}],"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`
			},
			check: expectDeactivated},
		{name: "Tutorial: update a reference attribute (Example 5, Add manager) is ignored", method: http.MethodPatch, path: userPath, status: 200,
			body: func(f entraFixture) string {
				return patchOps(`{"op":"Add","path":"manager","value":[{"$ref":"http://onramp.test/scim/v2/Users/` + f.other + `","value":"` + f.other + `"}]}`)
			},
			check: func(t *testing.T, a *testApp, f entraFixture, _ scimResponse) { expectUnchanged(t, a, f) }},
		{name: "Tutorial: Delete User", method: http.MethodDelete, path: userPath, status: 204,
			check: func(t *testing.T, a *testApp, f entraFixture, _ scimResponse) {
				if n := a.countSQL("SELECT COUNT(*) FROM sdp_users WHERE id = ?", idNum(f.user)); n != 0 {
					t.Errorf("the user is still there")
				}
			}},
		{name: "Tutorial: Create Group (Microsoft's extra schema, no members)", method: http.MethodPost,
			path: func(entraFixture) string { return "/Groups" }, status: 201,
			body: func(f entraFixture) string {
				return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
"externalId":"8aa1a0c0-` + strconv.Itoa(f.n) + `","displayName":"displayName ` + strconv.Itoa(f.n) + `","meta":{"resourceType":"Group"}}`
			},
			check: func(t *testing.T, _ *testApp, f entraFixture, r scimResponse) {
				if r.str("id") == "" || r.str("displayName") != "displayName "+strconv.Itoa(f.n) || r.str("externalId") != "8aa1a0c0-"+strconv.Itoa(f.n) {
					t.Errorf("got %s", r.raw)
				}
				expectMembers(t, r)
			}},
		{name: "Tutorial: Get Group (excludedAttributes=members)", method: http.MethodGet, status: 200,
			path: func(f entraFixture) string { return "/Groups/" + f.group + "?excludedAttributes=members" },
			check: func(t *testing.T, _ *testApp, f entraFixture, r scimResponse) {
				if r.str("id") != f.group || r.str("displayName") != "Group "+strconv.Itoa(f.n) || r.body["members"] != nil {
					t.Errorf("got %s", r.raw)
				}
			}},
		{name: "Tutorial: Get Group by displayName (excludedAttributes=members)", method: http.MethodGet, status: 200,
			path: func(f entraFixture) string {
				return "/Groups?excludedAttributes=members&filter=" + urlq(`displayName eq "Group `+strconv.Itoa(f.n)+`"`)
			},
			check: func(t *testing.T, _ *testApp, f entraFixture, r scimResponse) {
				res := r.resources()
				if r.num("totalResults") != 1 || len(res) != 1 || res[0]["id"] != f.group || res[0]["members"] != nil {
					t.Errorf("got %s", r.raw)
				}
			}},
		{name: "Tutorial: Update Group [Non-member attributes] (Replace displayName)", method: http.MethodPatch, path: groupPath, status: 200,
			body: func(f entraFixture) string {
				return patchOps(`{"op":"Replace","path":"displayName","value":"1879db59-` + strconv.Itoa(f.n) + `updatedDisplayName"}`)
			},
			check: func(t *testing.T, _ *testApp, f entraFixture, r scimResponse) {
				if r.str("displayName") != "1879db59-"+strconv.Itoa(f.n)+"updatedDisplayName" {
					t.Errorf("got %s", r.raw)
				}
				expectMembers(t, r, f.user)
			}},
		{name: "Tutorial: Update Group [Add Members] (Add members, $ref null)", method: http.MethodPatch, path: groupPath, status: 200,
			body: func(f entraFixture) string {
				return patchOps(`{"op":"Add","path":"members","value":[{"$ref":null,"value":"` + f.other + `"}]}`)
			},
			check: func(t *testing.T, _ *testApp, f entraFixture, r scimResponse) { expectMembers(t, r, f.user, f.other) }},
		{name: "Tutorial: Update Group [Remove Members] (Remove members, $ref null)", method: http.MethodPatch, path: groupPath, status: 200,
			body: func(f entraFixture) string {
				return patchOps(`{"op":"Remove","path":"members","value":[{"$ref":null,"value":"` + f.user + `"}]}`)
			},
			check: func(t *testing.T, _ *testApp, _ entraFixture, r scimResponse) { expectMembers(t, r) }},
		{name: "Tutorial: Delete Group", method: http.MethodDelete, path: groupPath, status: 204,
			check: func(t *testing.T, a *testApp, f entraFixture, _ scimResponse) {
				if n := a.countSQL("SELECT COUNT(*) FROM directory_groups WHERE id = ?", idNum(f.group)); n != 0 {
					t.Errorf("the group is still there")
				}
				expectStatusOf(t, a, f.user, models.UserEnabled)
			}},
	})
}

// TestSCIMEntraWithFlag: the requests Entra ID sends once the Tenant URL carries
// ?aadOptscim062020 (which then rides on every request): lower-case ops, real booleans,
// several attributes in one path-less replace with dotted keys, a member removed by a
// members[value eq "…"] path.
func TestSCIMEntraWithFlag(t *testing.T) {
	t.Parallel()
	runEntraCases(t, "aadOptscim062020", []entraCase{
		{name: "Known issues: disable a user with the flag (replace active false)",
			method: http.MethodPatch, path: userPath, status: 200,
			body:  func(entraFixture) string { return patchOps(`{"op":"replace","path":"active","value":false}`) },
			check: expectDeactivated},
		{name: "Known issues: add a single-value string attribute with the flag (add nickName)",
			method: http.MethodPatch, path: userPath, status: 200,
			body:  func(entraFixture) string { return patchOps(`{"op":"add","path":"nickName","value":"Babs"}`) },
			check: func(t *testing.T, a *testApp, f entraFixture, r scimResponse) { expectUnchanged(t, a, f) }},
		{name: "Known issues: replace multiple attributes with the flag (a path-less replace with dotted keys)",
			method: http.MethodPatch, path: userPath, status: 200,
			body: func(entraFixture) string {
				return patchOps(`{"op":"replace","path":"emails[type eq \"work\"].value","value":"TestMhvaes@test.microsoft.com"},
{"op":"replace","value":{"displayName":"Bjfe","name.givenName":"Kkom","name.familyName":"Unua",
"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"Aklq"}}`)
			},
			check: func(t *testing.T, a *testApp, f entraFixture, r scimResponse) {
				u := storedUser(t, a, f.user)
				if u.FirstName != "Kkom" || u.LastName != "Unua" || u.Email != "testmhvaes@test.microsoft.com" || u.Status != models.UserEnabled {
					t.Errorf("after the replace: %+v", u)
				}
			}},
		{name: `Known issues: remove a group member with the flag (remove members[value eq "…"])`,
			method: http.MethodPatch, path: groupPath, status: 200,
			body: func(f entraFixture) string {
				return patchOps(`{"op":"remove","path":"members[value eq \"` + f.user + `\"]"}`)
			},
			check: func(t *testing.T, _ *testApp, _ entraFixture, r scimResponse) { expectMembers(t, r) }},
		{name: "Path-less replace of active with the flag (replace {active:false})",
			method: http.MethodPatch, path: userPath, status: 200,
			body:  func(entraFixture) string { return patchOps(`{"op":"replace","value":{"active":false}}`) },
			check: expectDeactivated},
		{name: "Test Connection with the flag: userName eq a random GUID is an empty list", method: http.MethodGet, status: 200,
			path: func(entraFixture) string {
				return "/Users?filter=" + urlq(`userName eq "9d0a7e6f-5a4b-4c1e-3c2f-4f8e5b1a4c1e"`)
			},
			check: func(t *testing.T, _ *testApp, _ entraFixture, r scimResponse) {
				if r.num("totalResults") != 0 {
					t.Errorf("got %s", r.raw)
				}
			}},
		{name: "Create User with the flag", method: http.MethodPost, path: func(entraFixture) string { return "/Users" }, status: 201,
			body: func(f entraFixture) string {
				return entraCreateUser("flag"+strconv.Itoa(f.n)+"@contoso.example", "flag"+strconv.Itoa(f.n)+"@mail.contoso.example", "ext-flag"+strconv.Itoa(f.n))
			},
			check: func(t *testing.T, _ *testApp, f entraFixture, r scimResponse) {
				if r.str("userName") != "flag"+strconv.Itoa(f.n)+"@contoso.example" {
					t.Errorf("got %s", r.raw)
				}
			}},
	})
}
