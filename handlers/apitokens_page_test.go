package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/secret"
)

var apiTokenRE = regexp.MustCompile(`data-testid="api-token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*data-testid="api-token"`)

// TestAPITokensPage: an admin creates a token on Settings > API tokens (shown once, only its
// hash stored, an API / Token Created event), sees when it was last used, and revokes it after
// a confirmation; bad input keeps what was typed; helpdesk staff cannot open the page.
func TestAPITokensPage(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	admin := a.createAdmin("acme", "ada@acme.test", models.RoleAdmin)
	a.createAdmin("acme", "hal@acme.test", models.RoleHelpdesk)
	c := a.client()
	c.signIn(admin.Email)
	r := c.get("/settings/api-tokens")
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="scope-codes:write"`)

	r = c.post("/settings/api-tokens", url.Values{"name": {"HR sync"}, "expires": {"30d"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, "Choose at least one scope.")
	expectBody(t, r, `value="HR sync"`)

	r = c.post("/settings/api-tokens", url.Values{"name": {"HR sync"}, "scopes": {"users:read", "users:write"}, "expires": {"30d"}})
	expectStatus(t, r, http.StatusOK)
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("Cache-Control %q", r.Header.Get("Cache-Control"))
	}
	m := apiTokenRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no token on the page: %s", snippet(r.body))
	}
	tok := m[1] + m[2]
	if n := a.countSQL("SELECT COUNT(*) FROM api_tokens WHERE token_hash = ? AND scopes = ? AND expires_at IS NOT NULL", secret.Hash(tok), "users:read users:write"); n != 1 {
		t.Fatal("the token's hash and scopes are not stored")
	}
	if n := a.countSQL("SELECT COUNT(*) FROM api_tokens WHERE token_hash = ?", tok); n != 0 {
		t.Fatal("the token is stored in the clear")
	}
	if a.eventCount(models.SubTokenCreated) != 1 {
		t.Fatal("no Token Created event")
	}
	r = c.get("/settings/api-tokens")
	if strings.Contains(r.body, tok) || !strings.Contains(r.body, "HR sync") {
		t.Fatal("the list shows the token, or not its name")
	}
	expectBody(t, r, `data-testid="token-last-used">Never`)

	a.adminCall(http.MethodGet, "/api/v1/users", tok, nil).expect(t, http.StatusOK)
	a.adminCall(http.MethodGet, "/api/v1/users", tok, nil).expect(t, http.StatusOK)
	at := a.countSQL("SELECT COUNT(*) FROM api_tokens WHERE last_used_at IS NOT NULL AND last_used_ip = ?", "127.0.0.1")
	if at != 1 {
		t.Fatal("the last use is not recorded")
	}
	r = c.get("/settings/api-tokens")
	expectBody(t, r, "from 127.0.0.1")

	id := itoa(int64(a.countSQL("SELECT MAX(id) FROM api_tokens")))
	r = c.post("/settings/api-tokens/"+id+"/revoke", nil)
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, "Revoke this API token?")
	a.adminCall(http.MethodGet, "/api/v1/users", tok, nil).expect(t, http.StatusOK)
	r = c.post("/settings/api-tokens/"+id+"/revoke", url.Values{"confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	a.adminCall(http.MethodGet, "/api/v1/users", tok, nil).problem(t, http.StatusUnauthorized, "unauthorized")
	if a.eventCount(models.SubTokenRevoked) != 1 {
		t.Fatal("no Token Revoked event")
	}
	r = c.post("/settings/api-tokens/"+id+"/revoke", url.Values{"confirm": {"1"}})
	expectStatus(t, r, http.StatusNotFound)

	h := a.client()
	h.signIn("hal@acme.test")
	expectStatus(t, h.get("/settings/api-tokens"), http.StatusForbidden)
}

// TestAPITokenLastUseWrittenOncePerMinute: a token's row is written on its first use, then
// at most once a minute from the same address.
func TestAPITokenLastUseWrittenOncePerMinute(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	tok := a.apiToken("acme", models.ScopeUsersRead)
	used := func() time.Time {
		t.Helper()
		ts, err := a.store.APITokens(t.Context(), a.accountID("acme"))
		if err != nil || len(ts) != 1 || ts[0].LastUsedAt == nil {
			t.Fatalf("tokens %+v %v", ts, err)
		}
		return ts[0].LastUsedAt.UTC()
	}
	a.adminCall(http.MethodGet, "/api/v1/users", tok, nil).expect(t, http.StatusOK)
	first := used()
	a.advance(30 * time.Second)
	a.adminCall(http.MethodGet, "/api/v1/users", tok, nil).expect(t, http.StatusOK)
	if !used().Equal(first) {
		t.Fatal("written again within the minute")
	}
	a.advance(31 * time.Second)
	a.adminCall(http.MethodGet, "/api/v1/users", tok, nil).expect(t, http.StatusOK)
	if used().Equal(first) {
		t.Fatal("not written after a minute")
	}
}
