package handlers_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"onramp/models"
	"onramp/models/admins"
)

func TestSetupLinkWorksOnce(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	token, err := a.Auth.EnsureSetupLink(context.Background())
	if err != nil || token == "" {
		t.Fatalf("setup link: %q %v", token, err)
	}
	c := a.client()
	expectStatus(t, c.get("/setup?token=wrong"), http.StatusGone)

	r := c.get("/setup?token=" + token)
	expectStatus(t, r, http.StatusOK)
	if got := r.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy = %q", got)
	}
	// A link that does not work is said so before the form is looked at: only the link's holder
	// gets a password judged.
	expectStatus(t, c.post("/setup?token=wrong", url.Values{"account": {"acme"}, "email": {"ada@example.com"}, "name": {"Ada"}, "password": {"short"}}), http.StatusGone)
	// Bad input keeps what was typed and says what is wrong.
	r = c.post("/setup?token="+token, url.Values{"account": {"Bad Name!"}, "email": {"ada@example.com"}, "name": {"Ada"}, "password": {"short"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, `data-testid="error-account"`)
	expectBody(t, r, `data-testid="error-password"`)
	expectBody(t, r, `value="ada@example.com"`)

	r = c.post("/setup?token="+token, url.Values{"account": {"Acme"}, "email": {"Ada@Example.com"}, "name": {"Ada Lovelace"}, "password": {testPassword}})
	expectStatus(t, r, http.StatusSeeOther)
	r = c.get("/")
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="account-name">acme<`)
	expectBody(t, r, "Welcome to Onramp")

	// The link is dead now, for a new visitor and for the same one.
	expectStatus(t, a.client().get("/setup?token="+token), http.StatusGone)
	r = c.post("/setup?token="+token, url.Values{"account": {"other"}, "email": {"eve@example.com"}, "name": {"Eve"}, "password": {testPassword}})
	expectStatus(t, r, http.StatusGone)
	if token2, _ := a.Auth.EnsureSetupLink(context.Background()); token2 != "" {
		t.Fatal("a setup link was issued although an admin exists")
	}
	if n := a.eventCount(models.SubAccountCreated); n != 1 {
		t.Fatalf("%d Account Created events", n)
	}
}

// TestTokenPagesAreNotStored: a page whose address holds a secret token, valid or not, shown
// again after bad input too, is kept out of caches and Referer headers; the sign-in page is not
// cached either.
func TestTokenPagesAreNotStored(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	setup, err := a.Auth.EnsureSetupLink(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := a.client()
	expectNotStored(t, c.get("/setup?token="+setup), true)
	expectNotStored(t, c.get("/setup?token=wrong"), true)
	expectNotStored(t, c.post("/setup?token="+setup, url.Values{"account": {"Bad Name!"}}), true)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	_, token, err := a.Admins.Add(t.Context(), boss, "", addInput(1))
	if err != nil {
		t.Fatal(err)
	}
	link := a.activationLink(a.sdpUser("acme", "grace@example.com"), time.Hour)
	expectNotStored(t, c.get("/set-password/"+token), true)
	expectNotStored(t, c.get("/set-password/wrong"), true)
	expectNotStored(t, c.post("/set-password/"+token, url.Values{"password": {"short"}, "password_confirm": {"short"}}), true)
	expectNotStored(t, c.get(link), true)
	expectNotStored(t, c.get("/login"), false)
}

// expectNotStored checks that a response may not be cached and, with noReferrer, that the page
// sends no Referer.
func expectNotStored(t *testing.T, r response, noReferrer bool) {
	t.Helper()
	if got := r.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("%s %s (%d): Cache-Control = %q", r.Request.Method, r.Request.URL, r.StatusCode, got)
	}
	if got := r.Header.Get("Referrer-Policy"); noReferrer && got != "no-referrer" {
		t.Errorf("%s %s (%d): Referrer-Policy = %q", r.Request.Method, r.Request.URL, r.StatusCode, got)
	}
}

// A setup link that expired is replaced by a new one at the next start.
func TestSetupLinkReplacedOnceExpired(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	old, _ := a.Auth.EnsureSetupLink(context.Background())
	a.advance(25 * time.Hour)
	fresh, _ := a.Auth.EnsureSetupLink(context.Background())
	c := a.client()
	if fresh == old || fresh == "" {
		t.Fatalf("after expiry: %q, before %q", fresh, old)
	}
	expectStatus(t, c.get("/setup?token="+old), http.StatusGone)
	expectStatus(t, c.get("/setup?token="+fresh), http.StatusOK)
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	c := a.client()

	r := c.get("/")
	expectStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/login?next=%2F" {
		t.Fatalf("signed-out visitor sent to %q", loc)
	}

	c.get("/login")
	r = c.post("/login", url.Values{"email": {"ada@example.com"}, "password": {"not the password"}})
	expectStatus(t, r, http.StatusUnauthorized)
	expectBody(t, r, "The email or password is not right.")
	expectBody(t, r, `value="ada@example.com"`)
	if n := a.eventCount(models.SubSignInFailed); n != 1 {
		t.Fatalf("%d failure events", n)
	}

	before := cookieValue(c, "onramp_session")
	r = c.post("/login", url.Values{"email": {"ADA@example.com "}, "password": {testPassword}, "next": {"/settings/administrators"}})
	expectStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/settings/administrators" {
		t.Fatalf("after sign-in sent to %q", loc)
	}
	if after := cookieValue(c, "onramp_session"); after == "" || after == before {
		t.Fatal("the session cookie was not replaced at sign-in")
	}
	r = c.get("/")
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, "Overview")
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("console page Cache-Control = %q", r.Header.Get("Cache-Control"))
	}
	if n := a.eventCount(models.SubSignedIn); n != 1 {
		t.Fatalf("%d sign-in events", n)
	}
	// A signed-in visitor of /login goes to the console.
	expectStatus(t, c.get("/login"), http.StatusSeeOther)
}

// TestNextCannotLeaveTheSite: whatever next a sign-in page is opened or posted with, the
// console's and the portal's sign-in land on a page of their own audience. Browsers drop tabs
// and line breaks from a URL and read a backslash as a slash, so "/\t/evil.test" is
// "//evil.test", another host.
func TestNextCannotLeaveTheSite(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	a.activeSDPUser("acme", "grace@example.com")
	hostile := []string{"/\t/evil.test", "/\n/evil.test", "/\r\n/evil.test", "/ /evil.test", "/\\evil.test", "/\\/evil.test", "\\\\evil.test",
		"//evil.test", "/%2F%2Fevil.test", "%2F%2Fevil.test", "/%09/evil.test", "/%5Cevil.test", "/%0a/evil.test",
		"https://evil.test", "javascript:alert(1)", "evil.test", "/..//evil.test", "/%2e%2e//evil.test"}
	for _, door := range []struct {
		login, home string
		form        url.Values
		others      []string // this door's pages or another audience's
	}{
		{"/login", "/", url.Values{"email": {"ada@example.com"}}, nil},
		{"/myvpn/login", "/myvpn", url.Values{"account": {"acme"}, "email": {"grace@example.com"}},
			[]string{"/", "/settings/administrators", "/myvpnx", "/myvpn/../settings/administrators", "/myvpn/%2E%2E/settings/administrators"}},
	} {
		for _, next := range append(hostile, door.others...) {
			c := a.client()
			if f := nextField(c.get(door.login + "?next=" + url.QueryEscape(next))); f != "" {
				t.Errorf("%s?next=%q: the form carries next %q", door.login, next, f)
			}
			form := url.Values{"password": {testPassword}, "next": {next}}
			for k, v := range door.form {
				form[k] = v
			}
			r := c.post(door.login+"?next="+url.QueryEscape(next), form)
			if strings.ContainsFunc(next, unicode.IsControl) {
				// Refused at the edge, before any sign-in (docs/security.md, Input): no redirect.
				expectStatus(t, r, http.StatusBadRequest)
				continue
			}
			expectStatus(t, r, http.StatusSeeOther)
			if loc := r.Header.Get("Location"); loc != door.home {
				t.Errorf("%s with next=%q: sent to %q", door.login, next, loc)
			}
		}
	}
}

// TestSignInReturnsToTheAskedPage: a page asked for while signed out is where the sign-in
// lands, through a refused attempt and the authenticator code step.
func TestSignInReturnsToTheAskedPage(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	c := a.client()
	c.signIn("ada@example.com")
	key := c.setUpTwoStep(t)
	expectStatus(t, c.post("/logout", nil), http.StatusSeeOther)

	const asked = "/access/users?q=grace+hopper&status=active"
	r := c.get(asked)
	expectStatus(t, r, http.StatusSeeOther)
	r = c.get(r.Header.Get("Location"))
	expectStatus(t, r, http.StatusOK)
	r = c.post("/login", url.Values{"email": {"ada@example.com"}, "password": {testPassword}, "next": {nextField(r)}})
	expectStatus(t, r, http.StatusUnauthorized)
	expectBody(t, r, `data-testid="error-totp"`)
	a.advance(30 * time.Second) // the set-up used the current code: a code counts once
	r = c.post("/login", url.Values{"email": {"ada@example.com"}, "password": {testPassword}, "totp": {a.totpCode(key, 0)},
		"next": {nextField(r)}})
	expectStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != asked {
		t.Fatalf("console sign-in sent to %q, want %q", loc, asked)
	}

	a.activeSDPUser("acme", "grace@example.com")
	p := a.client()
	r = p.get("/myvpn/password")
	expectStatus(t, r, http.StatusSeeOther)
	r = p.get(r.Header.Get("Location"))
	form := url.Values{"account": {"acme"}, "email": {"grace@example.com"}, "password": {"not the password"}, "next": {nextField(r)}}
	r = p.post("/myvpn/login", form)
	expectStatus(t, r, http.StatusUnauthorized)
	form.Set("password", testPassword)
	form.Set("next", nextField(r))
	r = p.post("/myvpn/login", form)
	expectStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/myvpn/password" {
		t.Fatalf("portal sign-in sent to %q", loc)
	}
}

var nextRE = regexp.MustCompile(`name="next" value="([^"]*)"`)

// nextField is the page a sign-in form returns to (its hidden next field), or "".
func nextField(r response) string {
	if m := nextRE.FindStringSubmatch(r.body); m != nil {
		return html.UnescapeString(m[1])
	}
	return ""
}

func TestSignInRateLimitSameForUnknownEmail(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	for _, email := range []string{"ada@example.com", "nobody@example.com"} {
		c := a.client()
		c.get("/login")
		for i := 0; i < 5; i++ {
			expectStatus(t, c.post("/login", url.Values{"email": {email}, "password": {"wrong password!"}}), http.StatusUnauthorized)
		}
		r := c.post("/login", url.Values{"email": {email}, "password": {testPassword}})
		expectStatus(t, r, http.StatusTooManyRequests)
		expectBody(t, r, "Too many failed sign-in attempts")
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
	}
	// The budget refills with time.
	a.advance(4 * time.Minute)
	c := a.client()
	c.signIn("ada@example.com")
}

func TestSignInRateLimitPerIP(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.client()
	c.get("/login")
	for i := 0; i < 30; i++ {
		email := "user" + strings.Repeat("x", i) + "@example.com"
		expectStatus(t, c.post("/login", url.Values{"email": {email}, "password": {"wrong password!"}}), http.StatusUnauthorized)
	}
	expectStatus(t, c.post("/login", url.Values{"email": {"fresh@example.com"}, "password": {"wrong password!"}}), http.StatusTooManyRequests)
}

func TestDisabledAdminCannotSignIn(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	bob := a.createAdmin("acme", "bob@example.com", models.RoleAdmin)
	if _, err := a.Admins.SetDisabled(context.Background(), boss, "", bob.ID, true); err != nil {
		t.Fatal(err)
	}
	c := a.client()
	c.get("/login")
	r := c.post("/login", url.Values{"email": {"bob@example.com"}, "password": {testPassword}})
	expectStatus(t, r, http.StatusUnauthorized)
	expectBody(t, r, "The email or password is not right.")
}

func TestOldCookieRefusedAfterLogout(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	c := a.client()
	c.signIn("ada@example.com")
	stolen := c.cookies()
	expectStatus(t, c.get("/"), http.StatusOK)

	r := c.post("/logout", nil)
	expectStatus(t, r, http.StatusSeeOther)
	r = c.get("/login")
	expectBody(t, r, "You are signed out.")

	// Replay the cookie captured while signed in.
	thief := a.client()
	u, _ := url.Parse(a.srv.URL)
	thief.http.Jar.SetCookies(u, stolen)
	r = thief.get("/")
	expectStatus(t, r, http.StatusSeeOther)
	if !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("replayed cookie went to %q", r.Header.Get("Location"))
	}
	if n := a.eventCount(models.SubSignedOut); n != 1 {
		t.Fatalf("%d sign-out events", n)
	}
}

func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "ada@example.com", models.RoleAdmin)

	idle := a.client()
	idle.signIn("ada@example.com")
	a.advance(31 * time.Minute)
	expectStatus(t, idle.get("/"), http.StatusSeeOther)

	busy := a.client()
	busy.signIn("ada@example.com")
	// Activity every 20 minutes keeps the session alive until the 12-hour limit.
	for elapsed := time.Duration(0); elapsed < 11*time.Hour+40*time.Minute; elapsed += 20 * time.Minute {
		a.advance(20 * time.Minute)
		expectStatus(t, busy.get("/"), http.StatusOK)
	}
	a.advance(25 * time.Minute)
	expectStatus(t, busy.get("/"), http.StatusSeeOther)
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	laptop, phone := a.client(), a.client()
	laptop.signIn("ada@example.com")
	phone.signIn("ada@example.com")

	laptop.get("/account/password")
	r := laptop.post("/account/password", url.Values{"current_password": {"wrong password!"}, "password": {"a brand new passphrase"}, "password_confirm": {"a brand new passphrase"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, `data-testid="error-current_password"`)
	r = laptop.post("/account/password", url.Values{"current_password": {testPassword}, "password": {"a brand new passphrase"}, "password_confirm": {"another passphrase"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, `data-testid="error-password_confirm"`)
	r = laptop.post("/account/password", url.Values{"current_password": {testPassword}, "password": {"a brand new passphrase"}, "password_confirm": {"a brand new passphrase"}})
	expectStatus(t, r, http.StatusSeeOther)

	expectStatus(t, laptop.get("/"), http.StatusOK)
	expectStatus(t, phone.get("/"), http.StatusSeeOther)
	c := a.client()
	c.get("/login")
	expectStatus(t, c.post("/login", url.Values{"email": {"ada@example.com"}, "password": {testPassword}}), http.StatusUnauthorized)
	expectStatus(t, c.post("/login", url.Values{"email": {"ada@example.com"}, "password": {"a brand new passphrase"}}), http.StatusSeeOther)
}

func TestCSRFTokenRequired(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	c := a.client()
	c.get("/login")
	r := c.postRaw("/login", url.Values{"email": {"ada@example.com"}, "password": {testPassword}})
	expectStatus(t, r, http.StatusForbidden)
	r = c.postRaw("/login", url.Values{"email": {"ada@example.com"}, "password": {testPassword}, "_csrf": {"forged"}})
	expectStatus(t, r, http.StatusForbidden)

	c.signIn("ada@example.com")
	expectStatus(t, c.postRaw("/logout", url.Values{}), http.StatusForbidden)
	// A browser that says the request is cross-site is refused even with the token.
	c.header.Set("Sec-Fetch-Site", "cross-site")
	expectStatus(t, c.post("/logout", nil), http.StatusForbidden)
	// Same-origin still needs the token.
	c.header.Set("Sec-Fetch-Site", "same-origin")
	expectStatus(t, c.postRaw("/logout", url.Values{}), http.StatusForbidden)
	expectStatus(t, c.get("/"), http.StatusOK)
	// The htmx header carries the token too.
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/logout", nil)
	req.Header.Set("X-CSRF-Token", c.csrf)
	req.Header.Set("HX-Request", "true")
	r = c.do(req)
	expectStatus(t, r, http.StatusNoContent)
	if r.Header.Get("HX-Redirect") != "/login" {
		t.Fatalf("HX-Redirect = %q", r.Header.Get("HX-Redirect"))
	}
}

// TestCSRFTokenNotFromQuery: a token is taken from the form body or the header, never from the
// query string, where logs, history and Referer headers keep it.
func TestCSRFTokenNotFromQuery(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	c := a.client()
	c.get("/login")
	r := c.postRaw("/login?_csrf="+url.QueryEscape(c.csrf), url.Values{"email": {"ada@example.com"}, "password": {testPassword}})
	expectStatus(t, r, http.StatusForbidden)
	// A junk token in the query does not hide the real one in the body.
	r = c.post("/login?_csrf=junk", url.Values{"email": {"ada@example.com"}, "password": {testPassword}})
	expectStatus(t, r, http.StatusSeeOther)
}

// TestCSRFTokenRotatesAtSignInAndOut: a token seen before a sign-in or a sign-out, console or
// portal, is refused after it.
func TestCSRFTokenRotatesAtSignInAndOut(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	a.activeSDPUser("acme", "grace@example.com")
	for _, side := range []struct {
		login, home, logout string
		form                url.Values
	}{
		{"/login", "/", "/logout", url.Values{"email": {"ada@example.com"}}},
		{"/myvpn/login", "/myvpn", "/myvpn/logout", url.Values{"account": {"acme"}, "email": {"grace@example.com"}}},
	} {
		c := a.client()
		c.get(side.login)
		before := c.csrf
		side.form.Set("password", testPassword)
		expectStatus(t, c.post(side.login, side.form), http.StatusSeeOther)
		expectStatus(t, c.get(side.home), http.StatusOK)
		expectStatus(t, c.postRaw(side.logout, url.Values{"_csrf": {before}}), http.StatusForbidden)

		during := c.csrf
		expectStatus(t, c.post(side.logout, nil), http.StatusSeeOther)
		c.get(side.login)
		side.form.Set("_csrf", during)
		expectStatus(t, c.postRaw(side.login, side.form), http.StatusForbidden)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	r := a.client().get("/login")
	expectStatus(t, r, http.StatusOK)
	csp := r.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self' 'nonce-", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	nonce := csp[strings.Index(csp, "'nonce-")+7:]
	nonce = nonce[:strings.Index(nonce, "'")]
	expectBody(t, r, `nonce="`+nonce+`"`)
	if strings.Contains(r.body, "<script>") {
		t.Error("an inline script without a nonce")
	}
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "same-origin",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if r.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent over plain HTTP")
	}
	var session *http.Cookie
	c := a.client()
	a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	c.signIn("ada@example.com")
	for _, ck := range c.http.Jar.Cookies(mustURL(a.srv.URL)) {
		if ck.Name == "onramp_session" {
			session = ck
		}
	}
	if session == nil {
		t.Fatal("no session cookie")
	}
	// The jar drops attributes; check them on a fresh response.
	c2 := a.client()
	c2.get("/login")
	r = c2.post("/login", url.Values{"email": {"ada@example.com"}, "password": {testPassword}})
	sc := strings.Join(r.Header.Values("Set-Cookie"), "\n")
	if !strings.Contains(sc, "onramp_session=") || !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") {
		t.Fatalf("session cookie attributes: %s", sc)
	}
	// A nonce is new on every response.
	r2 := a.client().get("/login")
	if r2.Header.Get("Content-Security-Policy") == csp {
		t.Error("the CSP nonce repeats")
	}
}

func TestErrorPages(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	r := a.client().get("/no/such/page")
	expectStatus(t, r, http.StatusNotFound)
	expectBody(t, r, "Page not found")
	expectBody(t, r, `data-testid="error-page"`)
}

func TestHealth(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.client()
	r := c.get("/healthz")
	expectStatus(t, r, http.StatusOK)
	r = c.get("/readyz")
	expectStatus(t, r, http.StatusOK)
	if err := a.store.Close(); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, c.get("/readyz"), http.StatusServiceUnavailable)
}

// TestChangePasswordHasAFailureBudget: on the console and on the portal alike, a signed-in
// session cannot keep guessing the current password: after 5 wrong ones the form answers 429
// with Retry-After, even with the right one, until a minute has passed.
func TestChangePasswordHasAFailureBudget(t *testing.T) {
	t.Parallel()
	for _, door := range []struct{ name, path string }{{"console", "/account/password"}, {"portal", "/myvpn/password"}} {
		t.Run(door.name, func(t *testing.T) {
			a := newApp(t)
			c := a.client()
			if door.name == "console" {
				a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
				c.signIn("ada@example.com")
			} else {
				a.activeSDPUser("acme", "ada@example.com")
				c.portalSignIn("acme", "ada@example.com", testPassword, "")
			}
			c.get(door.path)
			form := func(current string) url.Values {
				return url.Values{"current_password": {current}, "password": {"a brand new passphrase"}, "password_confirm": {"a brand new passphrase"}}
			}
			for i := range 12 {
				r := c.post(door.path, form(fmt.Sprintf("guess number %d", i)))
				want := http.StatusUnprocessableEntity
				if i >= 5 {
					want = http.StatusTooManyRequests
				}
				expectStatus(t, r, want)
				if want == http.StatusTooManyRequests && r.Header.Get("Retry-After") == "" {
					t.Fatal("429 without Retry-After")
				}
			}
			expectStatus(t, c.post(door.path, form(testPassword)), http.StatusTooManyRequests)
			a.advance(time.Minute)
			expectStatus(t, c.post(door.path, form(testPassword)), http.StatusSeeOther)
		})
	}
}

// One person administers two accounts: a row, and a password, in each. The password picks the
// account; a wrong one is a failure in both; and the answers tell nothing of the second account.
func TestOneEmailAdministersTwoAccounts(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	const globexPassword = "amber meadow compass"
	acme := a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	globex, _, err := a.Admins.Create(context.Background(), admins.CreateInput{Account: "globex", Email: "ada@example.com", Name: "Ada", Role: models.RoleAdmin, Password: globexPassword})
	if err != nil {
		t.Fatal(err)
	}
	a.createAdmin("acme", "solo@example.com", models.RoleAdmin)
	signIn := func(pw string) (*client, response) {
		c := a.client()
		c.get("/login")
		return c, c.post("/login", url.Values{"email": {"ada@example.com"}, "password": {pw}})
	}
	for _, tc := range []struct{ pw, account string }{{testPassword, "acme"}, {globexPassword, "globex"}} {
		c, r := signIn(tc.pw)
		expectStatus(t, r, http.StatusSeeOther)
		expectBody(t, c.get("/"), `data-testid="account-name">`+tc.account+`<`)
		a.advance(time.Minute)
	}

	failures := func(accountID int64) int {
		return a.countSQL("SELECT COUNT(*) FROM events WHERE sub_type = ? AND account_id = ?", models.SubSignInFailed, accountID)
	}
	_, r := signIn("not the password")
	expectStatus(t, r, http.StatusUnauthorized)
	if failures(acme.AccountID) != 1 || failures(globex.AccountID) != 1 {
		t.Fatalf("failure events: acme %d, globex %d; want one each", failures(acme.AccountID), failures(globex.AccountID))
	}
	// A wrong password for the two accounts' admin, for one account's, and an unknown email.
	want := r.page("ada@example.com")
	for _, email := range []string{"solo@example.com", "nobody@example.com"} {
		c := a.client()
		c.get("/login")
		r := c.post("/login", url.Values{"email": {email}, "password": {"not the password"}})
		if r.StatusCode != http.StatusUnauthorized || r.page(email) != want {
			t.Fatalf("%s answers otherwise (%d):\n%s\n---\n%s", email, r.StatusCode, snippet(r.page(email)), snippet(want))
		}
	}

	// With the same password in both, the account used last wins (globex, a minute after acme).
	a.execSQL("UPDATE admins SET password_hash = (SELECT password_hash FROM admins WHERE id = ?) WHERE id = ?", acme.ID, globex.ID)
	c, r := signIn(testPassword)
	expectStatus(t, r, http.StatusSeeOther)
	expectBody(t, c.get("/"), `data-testid="account-name">globex<`)
}
