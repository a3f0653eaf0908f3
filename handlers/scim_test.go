package handlers_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"onramp/models"
)

// scimClient calls /scim/v2 with a bearer token.
type scimClient struct {
	t     *testing.T
	app   *testApp
	token string
}

// scimFor creates the account (with an admin) and a SCIM token for its directory named name.
func (a *testApp) scimFor(t *testing.T, account, name string) *scimClient {
	t.Helper()
	a.createAdmin(account, "boss@"+account+".example", models.RoleAdmin)
	tok, err := a.Directory.IssueSCIMToken(t.Context(), account, name, models.Actor{Type: models.ActorSystem})
	if err != nil {
		t.Fatal(err)
	}
	return &scimClient{t: t, app: a, token: tok}
}

type scimResponse struct {
	status int
	ctype  string
	header http.Header
	body   map[string]any
	raw    string
}

func (s *scimClient) do(method, path, body string) scimResponse {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.app.srv.URL+"/scim/v2"+path, strings.NewReader(body))
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	var raw strings.Builder
	_, _ = io.Copy(&raw, res.Body)
	r := scimResponse{status: res.StatusCode, ctype: res.Header.Get("Content-Type"), header: res.Header, raw: raw.String()}
	if r.raw != "" {
		if err := json.Unmarshal([]byte(r.raw), &r.body); err != nil {
			s.t.Fatalf("%s %s: not JSON: %s", method, path, r.raw)
		}
	}
	return r
}

func (r scimResponse) str(key string) string {
	v, _ := r.body[key].(string)
	return v
}

func (r scimResponse) num(key string) int {
	v, _ := r.body[key].(float64)
	return int(v)
}

func (r scimResponse) resources() []map[string]any {
	var out []map[string]any
	list, _ := r.body["Resources"].([]any)
	for _, x := range list {
		out = append(out, x.(map[string]any))
	}
	return out
}

func userBody(userName, given, family string) string {
	return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + userName + `","name":{"givenName":"` + given +
		`","familyName":"` + family + `"},"emails":[{"primary":true,"value":"` + userName + `","type":"work"}],"externalId":"ext-` + given + `","active":true}`
}

// TestSCIMAuthentication: no token, an unknown one or a revoked one is 401 in the SCIM error
// schema; another account's token does not reach this account's users.
func TestSCIMAuthentication(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	okta := a.scimFor(t, "acme", "Okta")
	other := a.scimFor(t, "globex", "Okta")
	created := okta.do(http.MethodPost, "/Users", userBody("ann@example.com", "Ann", "Lee"))
	if created.status != http.StatusCreated {
		t.Fatalf("create: %d %s", created.status, created.raw)
	}
	id := created.str("id")

	for _, tok := range []string{"", "not-a-token", other.token + "x"} {
		r := (&scimClient{t: t, app: a, token: tok}).do(http.MethodGet, "/Users", "")
		if r.status != http.StatusUnauthorized || r.ctype != "application/scim+json" || r.str("status") != "401" ||
			r.body["schemas"].([]any)[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
			t.Errorf("token %q: %d %s %s", tok, r.status, r.ctype, r.raw)
		}
	}
	if r := other.do(http.MethodGet, "/Users/"+id, ""); r.status != http.StatusNotFound {
		t.Errorf("another account's token read the user: %d %s", r.status, r.raw)
	}
	if r := other.do(http.MethodGet, "/Users", ""); r.num("totalResults") != 0 {
		t.Errorf("another account's token listed users: %s", r.raw)
	}
	if r := other.do(http.MethodDelete, "/Users/"+id, ""); r.status != http.StatusNotFound {
		t.Errorf("another account's token deleted the user: %d", r.status)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM directory_tokens WHERE last_used_at IS NOT NULL AND last_used_ip = '127.0.0.1'"); n != 2 {
		t.Errorf("%d tokens with their last use recorded, want 2", n)
	}
	a.execSQL("UPDATE directory_tokens SET revoked_at = ?", time.Now().UTC())
	if r := okta.do(http.MethodGet, "/Users", ""); r.status != http.StatusUnauthorized {
		t.Errorf("a revoked token: %d", r.status)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE type = 'SCIM' AND sub_type = 'Token Created'"); n != 2 {
		t.Errorf("%d Token Created events, want 2", n)
	}
}

// TestSCIMOktaChecks is Okta's published SCIM test suite (Runscope "Okta SCIM 2.0 Spec Test").
func TestSCIMOktaChecks(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	s := a.scimFor(t, "acme", "Okta")
	for _, u := range []string{"ann@example.com", "bob@example.com"} {
		if r := s.do(http.MethodPost, "/Users", userBody(u, strings.Split(u, "@")[0], "Test")); r.status != http.StatusCreated {
			t.Fatalf("seed %s: %d %s", u, r.status, r.raw)
		}
	}
	var id string
	steps := []struct {
		name   string
		method string
		path   func() string
		body   string
		status int
		check  func(r scimResponse) bool
	}{
		{"list with count=1&startIndex=1", http.MethodGet, func() string { return "/Users?count=1&startIndex=1" }, "", 200,
			func(r scimResponse) bool {
				if res := r.resources(); len(res) == 1 {
					id = res[0]["id"].(string)
				}
				return r.num("totalResults") == 2 && r.num("itemsPerPage") == 1 && r.num("startIndex") == 1 && id != ""
			}},
		{"get by id", http.MethodGet, func() string { return "/Users/" + id }, "", 200,
			func(r scimResponse) bool {
				return r.str("id") == id && r.str("userName") == "ann@example.com" && r.body["active"] == true
			}},
		{"userName eq of an unknown user", http.MethodGet, func() string { return `/Users?filter=userName+eq+%22nobody%40example.com%22` }, "", 200,
			func(r scimResponse) bool { return r.num("totalResults") == 0 && len(r.resources()) == 0 }},
		{"unknown id", http.MethodGet, func() string { return "/Users/999999" }, "", 404,
			func(r scimResponse) bool { return r.str("detail") != "" && r.str("status") == "404" }},
		{"create", http.MethodPost, func() string { return "/Users" }, userBody("cy@example.com", "Cy", "Dee"), 201,
			func(r scimResponse) bool {
				return r.str("userName") == "cy@example.com" && r.str("externalId") == "ext-Cy"
			}},
		{"duplicate", http.MethodPost, func() string { return "/Users" }, userBody("CY@example.com", "Cy", "Dee"), 409,
			func(r scimResponse) bool { return r.str("scimType") == "uniqueness" }},
		{"an externalId the directory has", http.MethodPost, func() string { return "/Users" },
			strings.Replace(userBody("cy2@example.com", "Cy", "Dee"), "userName\":\"cy2", "userName\":\"other", 1), 409,
			func(r scimResponse) bool { return r.str("scimType") == "uniqueness" }},
		{"upper-cased userName filter", http.MethodGet, func() string { return `/Users?filter=userName+eq+%22CY%40EXAMPLE.COM%22` }, "", 200,
			func(r scimResponse) bool {
				res := r.resources()
				return len(res) == 1 && res[0]["userName"] == "cy@example.com"
			}},
	}
	for _, st := range steps {
		r := s.do(st.method, st.path(), st.body)
		if r.status != st.status || r.ctype != "application/scim+json" || !st.check(r) {
			t.Errorf("%s: %d %s %s", st.name, r.status, r.ctype, r.raw)
		}
	}
}

// TestSCIMListing: filters, paging in a stable order, count=0 and the refusals.
func TestSCIMListing(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	s := a.scimFor(t, "acme", "Entra")
	var ids []string
	for i := range 5 {
		n := strconv.Itoa(i)
		r := s.do(http.MethodPost, "/Users", userBody("u"+n+"@example.com", "U"+n, "Test"))
		ids = append(ids, r.str("id"))
	}
	tests := []struct {
		query  string
		status int
		total  int
		ids    []string
		typ    string
	}{
		{query: "startIndex=2&count=2", status: 200, total: 5, ids: ids[1:3]},
		{query: "startIndex=5&count=10", status: 200, total: 5, ids: ids[4:]},
		{query: "count=0", status: 200, total: 5},
		{query: "filter=" + urlq(`externalId eq "ext-U3"`), status: 200, total: 1, ids: ids[3:4]},
		{query: "filter=" + urlq(`emails[type eq "work"].value eq "U2@example.com"`), status: 200, total: 1, ids: ids[2:3]},
		{query: "filter=" + urlq(`userName eq "u1@example.com" and externalId eq "ext-U1"`), status: 200, total: 1, ids: ids[1:2]},
		{query: "filter=" + urlq(`userName eq "u1@example.com" and externalId eq "ext-U2"`), status: 200, total: 0},
		{query: "filter=" + urlq(`userName sw "u"`), status: 400, typ: "invalidFilter"},
		{query: "filter=" + urlq(`userName eq "a" or userName eq "b"`), status: 400, typ: "invalidFilter"},
		{query: "count=ten", status: 400, typ: "invalidValue"},
	}
	for _, tt := range tests {
		r := s.do(http.MethodGet, "/Users?"+tt.query, "")
		if r.status != tt.status || r.str("scimType") != tt.typ {
			t.Errorf("%s: %d %s", tt.query, r.status, r.raw)
			continue
		}
		if tt.status != 200 {
			continue
		}
		var got []string
		for _, res := range r.resources() {
			got = append(got, res["id"].(string))
		}
		if r.num("totalResults") != tt.total || strings.Join(got, ",") != strings.Join(tt.ids, ",") {
			t.Errorf("%s: total %d ids %v, want %d %v", tt.query, r.num("totalResults"), got, tt.total, tt.ids)
		}
	}
}

// TestSCIMEntraPatchAndLifecycle: Entra ID's PATCH shapes (capitalised ops, "False", a
// path-less map, an unmapped attribute beside active), Okta's PUT with active:false, and
// DELETE; a disable goes through the console's own path (events with the directory as actor).
func TestSCIMEntraPatchAndLifecycle(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	s := a.scimFor(t, "acme", "Entra")
	id := s.do(http.MethodPost, "/Users", userBody("ann@example.com", "Ann", "Lee")).str("id")
	patch := func(ops string) scimResponse {
		return s.do(http.MethodPatch, "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+ops+`]}`)
	}
	r := patch(`{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Ops"},` +
		`{"op":"Replace","path":"displayName","value":"Ann Lee"},{"op":"Replace","path":"active","value":"False"}`)
	if r.status != 200 || r.body["active"] != false {
		t.Fatalf("Entra deactivation: %d %s", r.status, r.raw)
	}
	uid, _ := strconv.ParseInt(id, 10, 64)
	u, err := a.store.User(t.Context(), mustAccount(t, a, "acme"), uid)
	if err != nil || u.Status != models.UserDisabled || u.Origin != "directory:Entra" {
		t.Fatalf("after the patch: %+v %v", u, err)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE sub_type = 'Disabled' AND actor_type = 'directory' AND actor_label = 'Entra'"); n != 1 {
		t.Errorf("%d Disabled events by the directory", n)
	}
	if r := s.do(http.MethodGet, "/Users/"+id, ""); r.body["active"] != false {
		t.Errorf("a disabled user is listed as %s", r.raw)
	}
	r = patch(`{"op":"replace","value":{"active":"True","name.givenName":"Anne","emails[type eq \"work\"].value":"anne@example.com"}}`)
	if r.status != 200 || r.body["active"] != true || r.body["emails"].([]any)[0].(map[string]any)["value"] != "anne@example.com" || r.body["name"].(map[string]any)["givenName"] != "Anne" {
		t.Fatalf("path-less map: %d %s", r.status, r.raw)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE sub_type IN ('Enabled', 'Updated') AND actor_type = 'directory'"); n != 2 {
		t.Errorf("%d Enabled/Updated events by the directory, want 2", n)
	}
	if r := s.do(http.MethodPost, "/Users", `{"name":{"givenName":"No"},"emails":[{"value":"no@example.com"}]}`); r.status != 400 || r.str("scimType") != "invalidValue" {
		t.Errorf("a user without userName: %d %s", r.status, r.raw)
	}
	if r := patch(`{"op":"Move","path":"active","value":true}`); r.status != 400 {
		t.Errorf("an unknown op: %d", r.status)
	}
	r = s.do(http.MethodPut, "/Users/"+id, strings.Replace(userBody("anne@example.com", "Anne", "Lee"), `"active":true`, `"active":false`, 1))
	if r.status != 200 || r.body["active"] != false {
		t.Fatalf("Okta's PUT deactivation: %d %s", r.status, r.raw)
	}
	if r := s.do(http.MethodDelete, "/Users/"+id, ""); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}
	if r := s.do(http.MethodGet, "/Users/"+id, ""); r.status != 404 {
		t.Errorf("a deleted user: %d", r.status)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE sdp_user_id = ?", uid); n < 5 {
		t.Errorf("the deleted user's events went: %d left", n)
	}
}

// TestSCIMDiscovery: the three discovery documents answer in application/scim+json.
func TestSCIMDiscovery(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	s := a.scimFor(t, "acme", "Okta")
	for path, want := range map[string]string{"/ServiceProviderConfig": `"patch":{"supported":true}`,
		"/ResourceTypes": `"endpoint":"/Users"`, "/Schemas": `"name":"userName"`} {
		r := s.do(http.MethodGet, path, "")
		if r.status != 200 || r.ctype != "application/scim+json" || !strings.Contains(r.raw, want) {
			t.Errorf("%s: %d %s %s", path, r.status, r.ctype, r.raw)
		}
	}
}

func mustAccount(t *testing.T, a *testApp, name string) int64 {
	t.Helper()
	acct, err := a.store.AccountByName(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return acct.ID
}

func urlq(s string) string { return url.QueryEscape(s) }
