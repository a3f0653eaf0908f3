package handlers_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"onramp/handlers/scim"
	"onramp/models"
	"onramp/models/directory"
)

// expectSCIMError checks a refusal: its status, the SCIM error schema and its scimType.
func expectSCIMError(t *testing.T, what string, r scimResponse, status int, scimType string) {
	t.Helper()
	schemas, _ := r.body["schemas"].([]any)
	if r.status != status || r.ctype != "application/scim+json" || r.str("status") != strconv.Itoa(status) ||
		len(schemas) != 1 || schemas[0] != directory.SchemaError || r.str("scimType") != scimType || r.str("detail") == "" {
		t.Errorf("%s: %d %s %s, want %d %q in the SCIM error schema", what, r.status, r.ctype, r.raw, status, scimType)
	}
}

// TestSCIMFailedAuthenticationIsRateLimited: past directory.AuthFailBurst failed
// authentications from one address, its requests get 429 in the SCIM error schema with
// Retry-After, whatever token they carry, until the budget refills; requests with a good token
// spend nothing.
func TestSCIMFailedAuthenticationIsRateLimited(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	good := a.scimFor(t, "acme", "Okta")
	bad := &scimClient{t: t, app: a, token: good.token + "x"}
	for i := range 3 * directory.AuthFailBurst {
		if r := good.do(http.MethodGet, "/Users", ""); r.status != http.StatusOK {
			t.Fatalf("good request %d: %d %s", i, r.status, r.raw)
		}
	}
	for i := range directory.AuthFailBurst {
		expectSCIMError(t, "bad token "+strconv.Itoa(i), bad.do(http.MethodGet, "/Users", ""), http.StatusUnauthorized, "")
	}
	for _, c := range []*scimClient{bad, {t: t, app: a}, good} {
		r := c.do(http.MethodGet, "/Users", "")
		expectSCIMError(t, "past the budget", r, http.StatusTooManyRequests, "")
		if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || time.Duration(s)*time.Second > directory.AuthFailEvery {
			t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
		}
	}
	a.advance(directory.AuthFailEvery)
	if r := good.do(http.MethodGet, "/Users", ""); r.status != http.StatusOK {
		t.Fatalf("a good token once the budget refilled: %d %s", r.status, r.raw)
	}
	expectSCIMError(t, "one more failure", bad.do(http.MethodGet, "/Users", ""), http.StatusUnauthorized, "")
	expectSCIMError(t, "and the next", bad.do(http.MethodGet, "/Users", ""), http.StatusTooManyRequests, "")
}

// TestSCIMRefusesOversizedAndMalformedBodies: a body over scim.MaxBody is 413 and one that
// is not JSON is 400 invalidSyntax, both in the SCIM error schema, on every route that takes a
// body; a large body under the limit goes through.
func TestSCIMRefusesOversizedAndMalformedBodies(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	s := a.scimFor(t, "acme", "Okta")
	user := s.do(http.MethodPost, "/Users", userBody("ann@example.com", "Ann", "Lee")).str("id")
	group := s.do(http.MethodPost, "/Groups", groupBody("Engineering", user)).str("id")
	// Under the limit: a user with a long attribute Onramp ignores.
	padded := strings.Replace(userBody("bob@example.com", "Bob", "Ray"), `"active":true`,
		`"active":true,"title":"`+strings.Repeat("x", scim.MaxBody-1024)+`"`, 1)
	if r := s.do(http.MethodPost, "/Users", padded); r.status != http.StatusCreated {
		t.Fatalf("a body just under the limit: %d %s", r.status, r.raw[:min(len(r.raw), 300)])
	}
	over := `{"userName":"` + strings.Repeat("x", scim.MaxBody) + `"}`
	huge := strings.Repeat(" ", 3<<20) // past the router's own limit too
	for _, rt := range []struct{ method, path string }{
		{http.MethodPost, "/Users"}, {http.MethodPut, "/Users/" + user}, {http.MethodPatch, "/Users/" + user},
		{http.MethodPost, "/Groups"}, {http.MethodPut, "/Groups/" + group}, {http.MethodPatch, "/Groups/" + group},
	} {
		name := rt.method + " " + rt.path
		expectSCIMError(t, name+" over the limit", s.do(rt.method, rt.path, over), http.StatusRequestEntityTooLarge, "")
		expectSCIMError(t, name+" of 3 MB", s.do(rt.method, rt.path, huge), http.StatusRequestEntityTooLarge, "")
		for _, body := range []string{`{"userName":`, `not json`, `[1,2]`, ``} {
			expectSCIMError(t, name+" "+body, s.do(rt.method, rt.path, body), http.StatusBadRequest, "invalidSyntax")
		}
	}
	if r := s.do(http.MethodGet, "/Users/"+user, ""); r.str("userName") != "ann@example.com" {
		t.Errorf("the user changed: %s", r.raw)
	}
	if r := s.do(http.MethodGet, "/Groups/"+group, ""); r.str("displayName") != "Engineering" || len(memberValues(r.body)) != 1 {
		t.Errorf("the group changed: %s", r.raw)
	}
}

// lockedBuffer is a bytes.Buffer the server's goroutines can log to at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestSCIMTokensNeverLogged: whatever happens to a SCIM token (created in the console, used,
// sent wrong, in the query string, past the rate limit, revoked), no log line holds it, at any
// level, nor any event.
func TestSCIMTokensNeverLogged(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	a := newApp(t, withLog(&logs))
	a.createAdmin("acme", "boss@acme.example", models.RoleAdmin)
	c := a.client()
	c.signIn("boss@acme.example")
	c.get("/access/directory-services/directories")
	m := shownToken.FindStringSubmatch(c.post("/access/directory-services/directories", url.Values{"name": {"Okta"}}).body)
	if m == nil {
		t.Fatal("no token shown")
	}
	tok := m[1]
	s := &scimClient{t: t, app: a, token: tok}
	s.do(http.MethodPost, "/Users", userBody("ann@example.com", "Ann", "Lee"))
	s.do(http.MethodGet, "/Users?access_token="+url.QueryEscape(tok), "")
	s.do(http.MethodPatch, "/Users/1", `{"Operations":[{"op":"replace","path":"active","value":"`+tok+`"}]}`)
	wrong := &scimClient{t: t, app: a, token: tok[:len(tok)-1]}
	for range directory.AuthFailBurst + 2 {
		wrong.do(http.MethodGet, "/Users", "")
	}
	a.advance(directory.AuthFailEvery * directory.AuthFailBurst)
	a.execSQL("UPDATE directory_tokens SET revoked_at = ?", time.Now().UTC())
	s.do(http.MethodGet, "/Users", "")

	out := logs.String()
	if !strings.Contains(out, "/scim/v2/Users") || !strings.Contains(out, "status=429") || !strings.Contains(out, "status=401") {
		t.Fatalf("the requests were not logged:\n%s", out)
	}
	for _, secret := range []string{tok, tok[:len(tok)-1], url.QueryEscape(tok)} {
		if strings.Contains(out, secret) {
			t.Errorf("a log line holds the token:\n%s", out)
		}
		if n := a.countSQL("SELECT COUNT(*) FROM events WHERE details LIKE ?", "%"+secret+"%"); n != 0 {
			t.Errorf("%d events hold the token", n)
		}
	}
}
