package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/sso"
	"onramp/models/sso/ssotest"
)

// ssoApp is an app whose account acme has single sign-on on with a real provider, set up
// through the Single Sign-On tab, and an admin signed in to the console.
type ssoApp struct {
	*testApp
	op    *ssotest.Provider
	admin *client
	acct  *models.Account
}

func newSSOApp(t *testing.T, extra url.Values) *ssoApp {
	t.Helper()
	a := newApp(t)
	op := ssotest.StartProvider(t)
	op.AllowRedirect(a.SSO.RedirectURI())
	a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	admin := a.client()
	admin.signIn("ada@example.com")
	admin.get("/access/directory-services/sso")
	form := url.Values{"enabled": {"on"}, "issuer": {op.Issuer}, "client_id": {op.ClientID}, "client_secret": {op.ClientSecret},
		"scopes": {"openid email profile"}, "email_claim": {"email"}}
	for k, v := range extra {
		form[k] = v
	}
	expectStatus(t, admin.post("/access/directory-services/sso", form), http.StatusSeeOther)
	acct, err := a.store.AccountByName(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	return &ssoApp{testApp: a, op: op, admin: admin, acct: acct}
}

// addUser adds an SDP user of acme (new: never activated).
func (a *ssoApp) addUser(email string, status models.UserStatus) *models.SDPUser {
	a.t.Helper()
	u := &models.SDPUser{AccountID: a.acct.ID, FirstName: "Eve", LastName: "Ng", Email: email, Origin: models.OriginManual,
		Status: status, Activation: models.ActivationNew}
	if err := a.store.CreateUser(context.Background(), u); err != nil {
		a.t.Fatal(err)
	}
	return u
}

// ssoSignIn starts MyVPN's single sign-on in browser, signs in at the provider as u and
// returns the provider's way back (the callback URL's query).
func (a *ssoApp) ssoSignIn(browser *client, u ssotest.User) url.Values {
	a.t.Helper()
	r := browser.get("/myvpn/sso/start?account=acme")
	expectStatus(a.t.(*testing.T), r, http.StatusSeeOther)
	back, err := a.op.SignIn(http.DefaultClient, r.Header.Get("Location"), u)
	if err != nil {
		a.t.Fatal(err)
	}
	if back.Path != "/sso/callback" {
		a.t.Fatalf("provider sent the browser to %s", back)
	}
	return back.Query()
}

func (a *ssoApp) refusals(reason string) int {
	return a.countSQL("SELECT COUNT(*) FROM events WHERE type = 'SSO' AND sub_type = 'Sign-in Refused' AND details LIKE ?",
		`%"reason":"`+reason+`"%`)
}

func TestSSOActivatesAndSignsInToMyVPN(t *testing.T) {
	a := newSSOApp(t, nil)
	u := a.addUser("eve@example.com", models.UserEnabled)
	expectBody(t, a.client().get("/myvpn/login?account=acme"), `data-testid="sso-signin"`)

	browser := a.client()
	q := a.ssoSignIn(browser, a.op.AddUser(ssotest.User{Email: "Eve@example.com", EmailVerified: true}))
	r := browser.get("/sso/callback?" + q.Encode())
	expectStatus(t, r, http.StatusSeeOther)
	if r.Header.Get("Location") != "/myvpn" || r.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("callback: %s, referrer policy %q", r.Header.Get("Location"), r.Header.Get("Referrer-Policy"))
	}
	expectBody(t, browser.get("/myvpn"), "eve@example.com")
	got, err := a.store.User(context.Background(), a.acct.ID, u.ID)
	if err != nil || got.Activation != models.ActivationActive || got.PasswordHash != "" {
		t.Fatalf("user after SSO: %+v %v", got, err)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE sub_type = 'Activated' AND details LIKE '%single sign-on%'"); n != 1 {
		t.Fatalf("%d activation events", n)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE type = 'Portal' AND sub_type = 'Signed In' AND details LIKE '%single sign-on%'"); n != 1 {
		t.Fatalf("%d sign-in events", n)
	}
	// No password was ever chosen: a password sign-in fails, and its page offers SSO.
	other := a.client()
	other.get("/myvpn/login")
	r = other.post("/myvpn/login", url.Values{"account": {"acme"}, "email": {"eve@example.com"}, "password": {"a guessed password"}})
	expectBody(t, r, `data-testid="sso-signin"`)
	// Replaying the same callback is refused.
	r = a.client().get("/sso/callback?" + q.Encode())
	expectStatus(t, r, http.StatusForbidden)
	if a.refusals("replayed state")+a.refusals("state from another browser") != 1 {
		t.Fatal("no refusal event for the replay")
	}
}

func TestSSORefusals(t *testing.T) {
	for _, tc := range []struct {
		reason, message string
		user            ssotest.User
		tamper          ssotest.Tamper
		setup           func(a *ssoApp)
		change          func(q url.Values)
	}{
		{reason: "tampered state", message: "changed on the way", change: func(q url.Values) { q.Set("state", "A"+q.Get("state")) }},
		{reason: "wrong nonce", message: "does not belong to this sign-in", tamper: ssotest.Tamper{Nonce: "other"}},
		{reason: "wrong audience", message: "meant for another application", tamper: ssotest.Tamper{Audience: []string{"other-app"}}},
		{reason: "expired token", message: "had expired", tamper: ssotest.Tamper{IDTokenLifetime: -5 * time.Minute}},
		{reason: "unverified email", message: "not verified", user: ssotest.User{Email: "eve@example.com"}},
		{reason: "unknown user", message: "There is no VPN user stranger@example.com", user: ssotest.User{Email: "stranger@example.com", EmailVerified: true}},
		{reason: "disabled user", message: "Your account is disabled", setup: func(a *ssoApp) { a.addUser("dis@example.com", models.UserDisabled) },
			user: ssotest.User{Email: "dis@example.com", EmailVerified: true}},
		{reason: "provider error: access_denied", message: "refused the sign-in (access denied): no VPN for you",
			change: func(q url.Values) {
				q.Del("code")
				q.Set("error", "access_denied")
				q.Set("error_description", "no VPN for you")
			}},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			a := newSSOApp(t, nil)
			a.addUser("eve@example.com", models.UserEnabled)
			if tc.setup != nil {
				tc.setup(a)
			}
			if tc.user.Email == "" {
				tc.user = ssotest.User{Email: "eve@example.com", EmailVerified: true}
			}
			a.op.Tamper(tc.tamper)
			browser := a.client()
			q := a.ssoSignIn(browser, a.op.AddUser(tc.user))
			if tc.change != nil {
				tc.change(q)
			}
			r := browser.get("/sso/callback?" + q.Encode())
			expectStatus(t, r, http.StatusForbidden)
			expectBody(t, r, tc.message)
			if n := a.refusals(tc.reason); n != 1 {
				t.Fatalf("%d refusal events with reason %q", n, tc.reason)
			}
			if strings.Contains(r.body, q.Get("code")) && q.Get("code") != "" {
				t.Fatal("the page shows the code")
			}
			expectStatus(t, browser.get("/myvpn"), http.StatusSeeOther) // not signed in
		})
	}
}

func TestSSOCreatesUsersOnFirstSignInWhenAsked(t *testing.T) {
	a := newSSOApp(t, url.Values{"create_users": {"on"}})
	browser := a.client()
	q := a.ssoSignIn(browser, a.op.AddUser(ssotest.User{Email: "new@example.com", EmailVerified: true, GivenName: "Nia", FamilyName: "Obi"}))
	expectStatus(t, browser.get("/sso/callback?"+q.Encode()), http.StatusSeeOther)
	u, err := a.store.UserByEmail(context.Background(), a.acct.ID, "new@example.com")
	if err != nil || u.Origin != models.OriginSSO || u.Activation != models.ActivationActive || u.FirstName != "Nia" {
		t.Fatalf("created user: %+v %v", u, err)
	}
}

func TestSSOMatchesDirectoryUsersBySubject(t *testing.T) {
	a := newSSOApp(t, nil)
	d := &models.Directory{AccountID: a.acct.ID, Name: "okta", Kind: models.DirectorySCIM}
	if err := a.store.CreateDirectory(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	ext := "00u1abcd"
	u := &models.SDPUser{AccountID: a.acct.ID, FirstName: "Dir", LastName: "User", Email: "old@example.com", Origin: d.Origin(),
		DirectoryID: &d.ID, ExternalID: &ext, Status: models.UserEnabled, Activation: models.ActivationNew}
	if err := a.store.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	browser := a.client()
	q := a.ssoSignIn(browser, a.op.AddUser(ssotest.User{Subject: ext, Email: "renamed@example.com", EmailVerified: true}))
	expectStatus(t, browser.get("/sso/callback?"+q.Encode()), http.StatusSeeOther)
	expectBody(t, browser.get("/myvpn"), "old@example.com")
}

func TestSSOSettingsPage(t *testing.T) {
	a := newSSOApp(t, nil)
	r := a.admin.get("/access/directory-services/sso")
	expectBody(t, r, a.op.Issuer)
	expectBody(t, r, `value="http://onramp.test/sso/callback"`)
	expectBody(t, r, `href="/access/directory-services/sso/console"`)
	if strings.Contains(r.body, a.op.ClientSecret) {
		t.Fatal("the page shows the client secret")
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE type = 'SSO' AND sub_type = 'Settings Changed' AND details NOT LIKE ?", "%"+a.op.ClientSecret+"%"); n != 1 {
		t.Fatalf("%d settings events without the secret", n)
	}
	// An empty secret keeps the stored one: sign-in still works.
	form := url.Values{"enabled": {"on"}, "issuer": {a.op.Issuer}, "client_id": {a.op.ClientID}, "scopes": {"openid email"}, "email_claim": {"email"}}
	expectStatus(t, a.admin.post("/access/directory-services/sso", form), http.StatusSeeOther)
	a.addUser("eve@example.com", models.UserEnabled)
	browser := a.client()
	q := a.ssoSignIn(browser, a.op.AddUser(ssotest.User{Email: "eve@example.com", EmailVerified: true}))
	expectStatus(t, browser.get("/sso/callback?"+q.Encode()), http.StatusSeeOther)

	// Test runs discovery on the issuer typed.
	r = a.admin.post("/access/directory-services/sso/test", form)
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, "Discovery worked")
	expectBody(t, r, a.op.Issuer+"/oauth/token")
	expectBody(t, r, "supported")
	expectBody(t, r, `data-testid="sso-test-claims"`)
	form.Set("issuer", "http://127.0.0.1:1")
	expectBody(t, a.admin.post("/access/directory-services/sso/test", form), "Discovery failed")
	form.Set("issuer", "ftp://example.com")
	r = a.admin.post("/access/directory-services/sso", form)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, "must start with https://")

	// Helpdesk staff cannot see or change it.
	a.createAdmin("acme", "hal@example.com", models.RoleHelpdesk)
	hal := a.client()
	hal.signIn("hal@example.com")
	expectStatus(t, hal.get("/access/directory-services/sso"), http.StatusForbidden)
}

// With SSO on, new users show as waiting for their first SSO sign-in, in the list and on
// their page.
func TestSSOUsersWaitingForFirstSignIn(t *testing.T) {
	a := newSSOApp(t, nil)
	u := a.addUser("eve@example.com", models.UserEnabled)
	expectBody(t, a.admin.get("/access/users"), "Waiting for first SSO sign-in")
	expectBody(t, a.admin.get("/access/users/"+strconv.FormatInt(u.ID, 10)), "Waiting for first SSO sign-in")
	r := a.admin.get("/access/directory-services/provisioning")
	expectBody(t, r, `data-testid="sso-warning"`)
	expectBody(t, r, "recommend turning the invitation email options")
}

// Beginning sign-ins is limited per client IP: past the burst, 429 with Retry-After.
func TestSSOStartIsRateLimited(t *testing.T) {
	a := newSSOApp(t, nil)
	browser := a.client()
	for range sso.BeginBurst {
		expectStatus(t, browser.get("/myvpn/sso/start?account=acme"), http.StatusSeeOther)
	}
	r := browser.get("/myvpn/sso/start?account=acme")
	expectStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
}

// Reset password under SSO signs the user out everywhere, as without it, and leaves single
// sign-on working: the next sign-in with the provider lets them in again.
func TestSSOAfterResetPassword(t *testing.T) {
	a := newSSOApp(t, nil)
	u := a.addUser("eve@example.com", models.UserEnabled)
	eve := a.op.AddUser(ssotest.User{Email: "eve@example.com", EmailVerified: true})
	browser := a.client()
	expectStatus(t, browser.get("/sso/callback?"+a.ssoSignIn(browser, eve).Encode()), http.StatusSeeOther)
	expectBody(t, browser.get("/myvpn"), "eve@example.com")

	a.admin.get("/access/users")
	r := a.admin.post("/access/users/actions", url.Values{"action": {"reset_password"}, "ids": {strconv.FormatInt(u.ID, 10)}, "confirm": {"1"}})
	if r.StatusCode >= 400 {
		t.Fatalf("reset password: %d\n%s", r.StatusCode, r.body)
	}
	r = browser.get("/myvpn")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/myvpn/login") {
		t.Fatalf("the portal session outlived the reset: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	again := a.client()
	expectStatus(t, again.get("/sso/callback?"+a.ssoSignIn(again, eve).Encode()), http.StatusSeeOther)
	expectBody(t, again.get("/myvpn"), "eve@example.com")
}
