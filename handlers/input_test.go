package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"onramp/models"
)

// notText are values that no field of Onramp takes: PostgreSQL refuses NUL in text, a control
// character makes no sense in a one-line field, and bytes that are not UTF-8 are not text.
var notText = map[string]string{"NUL": "a\x00b", "control character": "a\x1bb", "invalid UTF-8": "a\xffb"}

// notTextJSON are the same as JSON string contents: the control characters escaped (JSON
// has no other way to carry them), the invalid byte raw.
var notTextJSON = map[string]string{"NUL": `a\u0000b`, "control character": `a\u001bb`, "invalid UTF-8": "a\xffb"}

// badUserAgents are User-Agent headers that are not text (HTTP itself refuses a NUL there).
var badUserAgents = map[string]string{"control character": "Mozilla\t5.0", "invalid UTF-8": "Mozilla\xff"}

var titleRE = regexp.MustCompile(`<title>[^<]*`)

// expectNotText checks that a page answered 400 with a page saying what is wrong.
func expectNotText(t *testing.T, door, kind string, r response) {
	t.Helper()
	if r.StatusCode != http.StatusBadRequest || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(r.body, "not text") {
		t.Errorf("%s with %s: %d %s, want a 400 page saying it is not text (page %q)", door, kind, r.StatusCode,
			r.Header.Get("Content-Type"), titleRE.FindString(r.body))
	}
}

func TestInputThatIsNotTextIsRefused(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	setupToken, err := a.Auth.EnsureSetupLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	_, adminLink, err := a.Admins.Add(ctx, boss, "", addInput(1))
	if err != nil {
		t.Fatal(err)
	}
	grace := a.activeSDPUser("acme", "grace@example.com")
	activation := a.activationLink(a.sdpUser("acme", "alan@example.com"), time.Hour)

	anon, signed := a.client(), a.client()
	signed.signIn("boss@example.com")
	type door struct {
		name, method, path string
		c                  *client
		form               url.Values // the bad value goes into field
		field              string
	}
	doors := []door{
		{"console sign-in", "POST", "/login", anon, url.Values{"email": {"boss@example.com"}, "password": {testPassword}}, "email"},
		{"console sign-in (password)", "POST", "/login", anon, url.Values{"email": {"boss@example.com"}, "password": {testPassword}}, "password"},
		{"console sign-in page", "GET", "/login", anon, url.Values{}, "next"},
		{"first-run setup", "POST", "/setup?token=" + setupToken, anon,
			url.Values{"account": {"other"}, "email": {"ada@example.com"}, "name": {"Ada"}, "password": {testPassword}}, "name"},
		{"setup page", "GET", "/setup", anon, url.Values{}, "token"},
		{"set-password link", "POST", "/set-password/" + adminLink, anon, url.Values{"password": {testPassword}, "password_confirm": {testPassword}}, "password"},
		{"portal sign-in", "POST", "/myvpn/login", anon, url.Values{"account": {"acme"}, "email": {"grace@example.com"}, "password": {testPassword}}, "account"},
		{"portal activation", "POST", activation, anon, url.Values{"password": {testPassword}, "password_confirm": {testPassword}}, "password_confirm"},
		{"user create", "POST", "/access/users", signed, url.Values{"first_name": {"Alan"}, "last_name": {"Turing"}, "email": {"turing@example.com"}}, "last_name"},
		{"user search", "GET", "/access/users", signed, url.Values{}, "q"},
		{"origin filter", "GET", "/access/users", signed, url.Values{}, "origin"},
		{"add admin", "POST", "/settings/administrators", signed, url.Values{"name": {"Hal"}, "email": {"hal@example.com"}, "role": {"helpdesk"}}, "email"},
		{"events filter", "GET", "/events", signed, url.Values{}, "q"},
	}
	for _, d := range doors {
		for kind, bad := range notText {
			form := url.Values{}
			for k, v := range d.form {
				form[k] = v
			}
			form.Set(d.field, bad)
			if d.method == "GET" {
				expectNotText(t, d.name, kind, d.c.get(d.path+"?"+form.Encode()))
				continue
			}
			d.c.get("/login") // a fresh CSRF token
			expectNotText(t, d.name, kind, d.c.post(d.path, form))
		}
	}
	// A console form sent as JSON is not read as one.
	for kind, bad := range notTextJSON {
		anon.get("/login")
		req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/login", strings.NewReader(`{"email":"`+bad+`","password":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", anon.csrf)
		if r := anon.do(req); r.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("console sign-in as JSON with %s: %d, want 415", kind, r.StatusCode)
		}
	}
	// Path parameters and headers that are stored (the User-Agent of a session).
	for kind, bad := range notText {
		expectNotText(t, "path parameter", kind, anon.get("/set-password/"+url.PathEscape(bad)))
		expectNotText(t, "activation path", kind, anon.get("/myvpn/activate/"+url.PathEscape(bad)))
	}
	for kind, ua := range badUserAgents {
		c := a.client()
		c.get("/login")
		c.header.Set("User-Agent", ua)
		expectNotText(t, "User-Agent", kind, c.post("/login", url.Values{"email": {"boss@example.com"}, "password": {testPassword}}))
	}

	// The client API answers its JSON problem: register, login and session.
	code := a.insertCode(grace, time.Hour)
	for kind, bad := range notTextJSON {
		for name, body := range map[string]string{
			"register code":     `{"code":"` + code + bad + `","device_name":"laptop"}`,
			"register platform": `{"code":"` + code + `","device_name":"laptop","platform":"` + bad + `"}`,
			"login email":       `{"account":"acme","email":"grace@example.com` + bad + `","password":"` + testPassword + `","device_name":"laptop"}`,
			"login account":     `{"account":"` + bad + `","email":"grace@example.com","password":"` + testPassword + `","device_name":"laptop"}`,
		} {
			path := "/api/v1/client/register"
			if strings.HasPrefix(name, "login") {
				path = "/api/v1/client/login"
			}
			r := a.api("POST", path, "", body)
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_request" || !strings.Contains(r.str("message"), "not text") {
				t.Errorf("%s with %s: %d %s", name, kind, r.status, r.raw)
			}
		}
	}
	session := map[string]apiResult{}
	for kind, bad := range notText {
		session["query with "+kind] = a.api("GET", "/api/v1/client/session?x="+url.QueryEscape(bad), "", nil)
	}
	for kind, ua := range badUserAgents {
		session["User-Agent with "+kind] = a.apiWith(http.Header{"User-Agent": {ua}}, "GET", "/api/v1/client/session", "", nil)
	}
	for name, r := range session {
		if r.status != http.StatusBadRequest || r.str("error") != "invalid_request" || !strings.Contains(r.str("message"), "not text") {
			t.Errorf("session, %s: %d %s", name, r.status, r.raw)
		}
	}

	// Nothing of it was stored, and the server works as before.
	if n := a.countSQL("SELECT COUNT(*) FROM sdp_users") + a.countSQL("SELECT COUNT(*) FROM admins"); n != 4 {
		t.Fatalf("%d users and admins, want the 4 the test made", n)
	}
	if n := a.eventCount(models.SubClientCodeRejected); n != 0 {
		t.Fatalf("%d codes rejected: a refused request counted against the code's budget", n)
	}
	a.client().signIn("boss@example.com")
	a.client().portalSignIn("acme", "grace@example.com", testPassword, "")
	a.register(code, "laptop")
}

func TestLongNonASCIIUserAgentIsCutOnACharacter(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.activeSDPUser("acme", "grace@example.com")
	ua := "Mozilla/5.0 " + strings.Repeat("é", 300) // 255 bytes end inside an é

	console := a.client()
	console.header.Set("User-Agent", ua)
	console.signIn("boss@example.com")
	portal := a.client()
	portal.header.Set("User-Agent", ua)
	portal.portalSignIn("acme", "grace@example.com", testPassword, "")

	for _, table := range []string{"admin_sessions", "portal_sessions"} {
		var stored string
		if err := a.store.SQLDB().QueryRow("SELECT user_agent FROM " + table).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if !utf8.ValidString(stored) || len(stored) > 255 || len(stored) < 250 || !strings.HasPrefix(ua, stored) {
			t.Fatalf("%s keeps %d bytes %q, want the longest whole-character prefix of at most 255 bytes", table, len(stored), stored)
		}
	}
}

func TestCodeSeparators(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	u := a.sdpUser("acme", "grace@example.com")
	// A code pasted from a document: a no-break space and an en dash between its groups.
	code := a.insertCode(u, time.Hour) // XXXX-XXXX-XXXX-XXXX
	pasted := code[:4] + "\u00a0" + code[5:9] + "\u2013" + code[10:14] + " " + code[15:]
	expectAPI(t, a.api("POST", "/api/v1/client/register", "", registerBody(pasted, "laptop")), http.StatusCreated, "")

	// A tab is no separator: the request is not text, refused before the code is looked at.
	tabbed := strings.ReplaceAll(a.insertCode(u, time.Hour), "-", "\t")
	expectAPI(t, a.api("POST", "/api/v1/client/register", "", registerBody(tabbed, "phone")), http.StatusBadRequest, "invalid_request")
	if n := a.eventCount(models.SubClientCodeRejected); n != 0 {
		t.Fatalf("%d codes rejected, want none", n)
	}
}
