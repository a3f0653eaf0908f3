package handlers_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"onramp/handlers/api"
	"onramp/models"
)

// TestAPIOpenAPIValidates: openapi.json is a valid OpenAPI 3.1 document (libopenapi-validator
// checks it against the specification's schema).
func TestAPIOpenAPIValidates(t *testing.T) {
	t.Parallel()
	v, err := openAPIValidator()
	if err != nil {
		t.Fatal(err)
	}
	if ok, errs := v.ValidateDocument(); !ok {
		for _, e := range errs {
			t.Error(e.Error())
		}
	}
	if !strings.Contains(string(api.Document), `"openapi": "3.1.0"`) {
		t.Error("openapi.json is not OpenAPI 3.1")
	}
}

// TestAPIRoutesMatchOpenAPI: every route of the router under /api/v1 (but the VPN client's
// /api/v1/client, documented in docs/client-api.md) is an operation of openapi.json with the
// route's name as operationId, and every operation is a route.
func TestAPIRoutesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	routes := map[string]string{}
	for _, r := range a.srv.Config.Handler.(*echo.Echo).Routes() {
		if strings.HasPrefix(r.Path, api.Prefix+"/") && !strings.HasPrefix(r.Path, api.Prefix+"/client/") {
			routes[r.Method+" "+r.Path] = r.Name
		}
	}
	ops, err := api.Operations()
	if err != nil {
		t.Fatal(err)
	}
	for key, name := range routes {
		op, ok := ops[key]
		switch {
		case !ok:
			t.Errorf("route %s (%s) is not in openapi.json", key, name)
		case op != name:
			t.Errorf("route %s is named %s, its operationId is %s", key, name, op)
		}
	}
	for key := range ops {
		if _, ok := routes[key]; !ok {
			t.Errorf("openapi.json describes %s, which the router does not serve", key)
		}
	}
	if len(routes) < 3 {
		t.Fatalf("only %d API routes: %v", len(routes), routes)
	}
	res := a.adminCall(http.MethodGet, "/api/v1/openapi.json", "", nil)
	res.expect(t, http.StatusOK)
	if res.raw != string(api.Document) {
		t.Error("GET /api/v1/openapi.json is not the document")
	}
}

// TestAPITokensRefused: no token, a cookie instead of a token, an unknown, a revoked and an
// expired token are all 401 problems; a live one works.
func TestAPITokensRefused(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	live := a.apiToken("acme", models.ScopeUsersRead)
	revoked, rt := a.apiTokenExpiring("acme", 0, models.ScopeUsersRead)
	expiring, _ := a.apiTokenExpiring("acme", time.Hour, models.ScopeUsersRead)
	admin := a.createAdmin("acme", "ada@acme.test", models.RoleAdmin)
	if _, err := a.Tokens.Revoke(t.Context(), admin, "203.0.113.9", rt.ID); err != nil {
		t.Fatal(err)
	}
	a.adminCall(http.MethodGet, "/api/v1/users", expiring, nil).expect(t, http.StatusOK)
	a.advance(time.Hour)
	for name, tok := range map[string]string{"none": "", "unknown": "onr_" + strings.Repeat("x", 43), "revoked": revoked, "expired": expiring} {
		p := a.adminCall(http.MethodGet, "/api/v1/users", tok, nil).problem(t, http.StatusUnauthorized, "unauthorized")
		if p.Instance != "/api/v1/users" {
			t.Errorf("%s: instance %q", name, p.Instance)
		}
	}
	c := a.client()
	c.signIn(admin.Email)
	if r := c.get("/api/v1/users"); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a console session on the API: %d", r.StatusCode)
	}
	res := a.adminCall(http.MethodGet, "/api/v1/users", live, nil)
	res.expect(t, http.StatusOK)
	if res.header.Get("RateLimit-Limit") == "" || res.header.Get("RateLimit-Policy") == "" || res.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("headers %v", res.header)
	}
	a.adminCall(http.MethodGet, "/api/v1/nothing-here", live, nil).problem(t, http.StatusNotFound, "")
}

// TestAPIAccountsApart: account A's token cannot read account B's users, which are not found.
func TestAPIAccountsApart(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	tokA := a.apiToken("acme", models.ScopeUsersRead)
	a.apiToken("globex", models.ScopeUsersRead)
	mine := a.sdpUser("acme", "mine@acme.test")
	theirs := a.sdpUser("globex", "theirs@globex.test")
	a.adminCall(http.MethodGet, "/api/v1/users/"+itoa(mine.ID), tokA, nil).expect(t, http.StatusOK)
	a.adminCall(http.MethodGet, "/api/v1/users/"+itoa(theirs.ID), tokA, nil).problem(t, http.StatusNotFound, "not-found")
	var page api.UserPage
	a.adminCall(http.MethodGet, "/api/v1/users", tokA, nil).json(t, &page)
	if len(page.Users) != 1 || page.Users[0].Email != "mine@acme.test" {
		t.Fatalf("list %+v", page)
	}
}

// TestAPIRateLimit: past its burst a token is refused with 429, Retry-After and
// RateLimit-Remaining: 0; another token of the account is not.
func TestAPIRateLimit(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	tok := a.apiToken("acme", models.ScopeUsersRead)
	other := a.apiToken("acme", models.ScopeUsersRead)
	for range api.DefaultBurst {
		a.adminCall(http.MethodGet, "/api/v1/users", tok, nil).expect(t, http.StatusOK)
	}
	res := a.adminCall(http.MethodGet, "/api/v1/users", tok, nil)
	res.problem(t, http.StatusTooManyRequests, "rate-limited")
	if res.header.Get("Retry-After") == "" || res.header.Get("RateLimit-Remaining") != "0" || res.header.Get("RateLimit-Reset") == "" {
		t.Fatalf("headers %v", res.header)
	}
	a.adminCall(http.MethodGet, "/api/v1/users", other, nil).expect(t, http.StatusOK)
	a.advance(api.DefaultEvery)
	a.adminCall(http.MethodGet, "/api/v1/users", tok, nil).expect(t, http.StatusOK)
}

// TestAPIScopesEnforced: every operation refuses (403 insufficient-scope) a token that has
// every scope but the one the operation needs, before it acts.
func TestAPIScopesEnforced(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	scopes, err := api.OperationScopes()
	if err != nil {
		t.Fatal(err)
	}
	u := a.sdpUser("acme", "someone@acme.test")
	for key, need := range scopes {
		others := slices.DeleteFunc(slices.Clone(models.Scopes), func(s models.Scope) bool { return s == need })
		tok := a.apiToken("acme", others...)
		method, path, _ := strings.Cut(key, " ")
		path = strings.NewReplacer(":id", itoa(u.ID), ":device", "1").Replace(path)
		res := a.adminCall(method, path, tok, "{}")
		p := res.problem(t, http.StatusForbidden, "insufficient-scope")
		if !strings.Contains(p.Detail, string(need)) {
			t.Errorf("%s: detail %q does not name %s", key, p.Detail, need)
		}
	}
	if len(scopes) < 2 {
		t.Fatalf("only %d operations with a scope", len(scopes))
	}
}
