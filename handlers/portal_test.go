package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"onramp/models"
)

// The MyVPN portal's HTTP tests. SDP users are made through the store directly, so that these
// tests do not depend on the console's users pages.

const newPortalPassword = "copper meadow whistle"

// portalCookies are the cookies the browser sends to portal pages (the portal cookie is
// scoped to /myvpn).
func (c *client) portalCookies() []*http.Cookie {
	return c.http.Jar.Cookies(mustURL(c.app.srv.URL + "/myvpn"))
}

func (c *client) portalCookie() string {
	for _, ck := range c.portalCookies() {
		if ck.Name == "onramp_portal" {
			return ck.Value
		}
	}
	return ""
}

func TestPortalActivationLinkOpensWithoutBeingUsed(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	u := a.sdpUser("acme", "grace@example.com")
	link := a.activationLink(u, 24*time.Hour)
	c := a.client()
	for i := 0; i < 2; i++ { // a mail scanner's GET must not use the link up
		r := c.get(link)
		expectStatus(t, r, http.StatusOK)
		expectBody(t, r, `data-testid="activation-email">grace@example.com<`)
		expectBody(t, r, `data-testid="portal-account">acme<`)
		if got := r.Header.Get("Referrer-Policy"); got != "no-referrer" {
			t.Fatalf("Referrer-Policy = %q", got)
		}
		if got := r.Header.Get("Cache-Control"); got != "no-store" {
			t.Fatalf("Cache-Control = %q", got)
		}
	}
	if got := a.reload(u); got.Activation != models.ActivationInvitationSent || got.PasswordHash != "" {
		t.Fatalf("opening the link changed the user: %+v", got)
	}
}

func TestPortalActivation(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	u := a.sdpUser("acme", "grace@example.com")
	link := a.activationLink(u, 24*time.Hour)
	c := a.client()
	c.get(link)

	// Bad passwords keep the page, with the reason, and do not use the link.
	r := c.post(link, url.Values{"password": {"short"}, "password_confirm": {"short"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, `data-testid="error-password"`)
	expectBody(t, r, `data-testid="activation-form"`)
	if got := r.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Fatalf("Referrer-Policy = %q", got)
	}
	r = c.post(link, url.Values{"password": {newPortalPassword}, "password_confirm": {newPortalPassword + "!"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, `data-testid="error-password_confirm"`)

	r = c.post(link, url.Values{"password": {newPortalPassword}, "password_confirm": {newPortalPassword}})
	expectStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/myvpn" {
		t.Fatalf("after activation sent to %q", loc)
	}
	got := a.reload(u)
	if got.Activation != models.ActivationActive || got.PasswordHash == "" || strings.Contains(got.PasswordHash, newPortalPassword) {
		t.Fatalf("user after activation: %+v", got)
	}
	if n := a.portalEvents(models.EventUser, models.SubUserActivated); n != 1 {
		t.Fatalf("%d Activated events", n)
	}
	// Signed in at once.
	r = c.get("/myvpn")
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="portal-email">grace@example.com<`)
	expectBody(t, r, "Your account is active")
	expectBody(t, r, `data-testid="portal-sign-out"`)

	// The link is dead now, whoever opens it.
	for _, cl := range []*client{c, a.client()} {
		r = cl.get(link)
		expectStatus(t, r, http.StatusGone)
		expectBody(t, r, "Ask your administrator to send you a new invitation.")
	}
	r = c.post(link, url.Values{"password": {"another good passphrase"}, "password_confirm": {"another good passphrase"}})
	expectStatus(t, r, http.StatusGone)

	// The new password signs in.
	a.client().portalSignIn("acme", "grace@example.com", newPortalPassword, "")
	assertNoSecretInEvents(t, a, newPortalPassword, strings.TrimPrefix(link, "/myvpn/activate/"))
}

func TestPortalActivationLinksThatDoNotWork(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.client()
	expectStatus(t, c.get("/myvpn/activate/not-a-token"), http.StatusGone)

	// Expired.
	u := a.sdpUser("acme", "grace@example.com")
	expired := a.activationLink(u, time.Hour)
	a.advance(2 * time.Hour)
	r := c.get(expired)
	expectStatus(t, r, http.StatusGone)
	expectBody(t, r, `data-testid="link-gone"`)

	// Replaced by a newer invitation.
	old := a.activationLink(u, 24*time.Hour)
	if err := a.store.RetireUserTokens(context.Background(), models.TokenUserActivation, []int64{u.ID}, a.clock()); err != nil {
		t.Fatal(err)
	}
	fresh := a.activationLink(u, 24*time.Hour)
	expectStatus(t, c.get(old), http.StatusGone)
	expectStatus(t, c.get(fresh), http.StatusOK)

	// A disabled user's link is refused, GET and POST.
	d := a.sdpUser("acme", "dis@example.com")
	link := a.activationLink(d, 24*time.Hour)
	a.setStatus(d, models.UserDisabled)
	expectStatus(t, c.get(link), http.StatusGone)
	c.get("/myvpn/login")
	r = c.post(link, url.Values{"password": {newPortalPassword}, "password_confirm": {newPortalPassword}})
	expectStatus(t, r, http.StatusGone)
	if got := a.reload(d); got.Activation == models.ActivationActive || got.PasswordHash != "" {
		t.Fatal("a disabled user was activated")
	}
}

func TestPortalActivationRateLimit(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.client()
	c.get("/myvpn/login")
	for i := 0; i < 20; i++ {
		r := c.post("/myvpn/activate/guess"+strings.Repeat("x", i), url.Values{"password": {newPortalPassword}, "password_confirm": {newPortalPassword}})
		expectStatus(t, r, http.StatusGone)
	}
	u := a.sdpUser("acme", "grace@example.com")
	link := a.activationLink(u, 24*time.Hour)
	r := c.post(link, url.Values{"password": {newPortalPassword}, "password_confirm": {newPortalPassword}})
	expectStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	a.advance(time.Minute)
	expectStatus(t, c.post(link, url.Values{"password": {newPortalPassword}, "password_confirm": {newPortalPassword}}), http.StatusSeeOther)
}

func TestPortalSignInFailuresLookAlike(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.activeSDPUser("acme", "grace@example.com")
	c := a.client()
	for _, try := range [][3]string{
		{"acme", "grace@example.com", "not the password"},
		{"acme", "nobody@example.com", "not the password"},
		{"nowhere", "grace@example.com", testPassword},
	} {
		r := c.portalLogin(try[0], try[1], try[2], "")
		expectStatus(t, r, http.StatusUnauthorized)
		expectBody(t, r, "The account name, email or password is not right.")
		expectBody(t, r, `value="`+try[1]+`"`)
	}
	if n := a.portalEvents(models.EventPortal, models.SubSignInFailed); n != 3 {
		t.Fatalf("%d Sign-in Failed events", n)
	}
	assertNoSecretInEvents(t, a, "not the password", testPassword)

	// Invited but not activated: without a password of their own, the same answer as anyone
	// unknown (which users were invited is not told), with the way in for a newcomer.
	a.sdpUser("acme", "new@example.com")
	r := c.portalLogin("acme", "new@example.com", "anything at all", "")
	expectStatus(t, r, http.StatusUnauthorized)
	expectBody(t, r, "The account name, email or password is not right.")
	expectBody(t, r, "invitation email")

	// Disabled: said only to whoever knows the password.
	d := a.activeSDPUser("acme", "dis@example.com")
	a.setStatus(d, models.UserDisabled)
	expectBody(t, c.portalLogin("acme", "dis@example.com", "not the password", ""), "The account name, email or password is not right.")
	r = c.portalLogin("acme", "dis@example.com", testPassword, "")
	expectStatus(t, r, http.StatusForbidden)
	expectBody(t, r, "Your account is disabled")
}

func TestPortalSignInRateLimit(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.activeSDPUser("acme", "grace@example.com")
	for _, email := range []string{"grace@example.com", "nobody@example.com"} {
		c := a.client()
		for i := 0; i < 5; i++ {
			expectStatus(t, c.portalLogin("acme", email, "wrong password!", ""), http.StatusUnauthorized)
		}
		r := c.portalLogin("acme", email, testPassword, "")
		expectStatus(t, r, http.StatusTooManyRequests)
		expectBody(t, r, "Too many failed sign-in attempts")
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
	}
	// The budget refills with time.
	a.advance(4 * time.Minute)
	a.client().portalSignIn("acme", "grace@example.com", testPassword, "")

	// Per IP: many users, one client.
	c := a.client()
	for i := 0; i < 30; i++ { // the failures above were refilled by the wait
		expectStatus(t, c.portalLogin("acme", "user"+strings.Repeat("x", i)+"@example.com", "wrong password!", ""), http.StatusUnauthorized)
	}
	expectStatus(t, c.portalLogin("acme", "fresh@example.com", "wrong password!", ""), http.StatusTooManyRequests)
}

func TestPortalSignInRotatesSession(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.activeSDPUser("acme", "grace@example.com")
	c := a.client()

	// Signed out, a portal page sends to the portal's own sign-in page.
	r := c.get("/myvpn/password")
	expectStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/myvpn/login?next=%2Fmyvpn%2Fpassword" {
		t.Fatalf("signed-out visitor sent to %q", loc)
	}

	r = c.portalLogin("acme", "grace@example.com", testPassword, "")
	expectStatus(t, r, http.StatusSeeOther)
	first := c.portalCookie()
	old := c.portalCookies()
	if first == "" {
		t.Fatal("no portal cookie")
	}
	for _, ck := range c.cookies() {
		if ck.Name == "onramp_portal" {
			t.Fatal("the portal cookie is sent to the console too")
		}
	}
	r = c.get("/myvpn")
	expectStatus(t, r, http.StatusOK)
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("portal page Cache-Control = %q", r.Header.Get("Cache-Control"))
	}
	expectBody(t, r, `data-testid="portal-account">acme<`)

	// next= takes the user back where they were going, only within the portal.
	c.get("/myvpn/login")
	r = c.post("/myvpn/login", url.Values{"account": {"ACME"}, "email": {"Grace@Example.com"}, "password": {testPassword}, "next": {"/myvpn/password"}})
	expectStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/myvpn/password" {
		t.Fatalf("after sign-in sent to %q", loc)
	}
	if second := c.portalCookie(); second == "" || second == first {
		t.Fatal("the portal session cookie was not replaced at sign-in")
	}
	// The first session ended when the browser signed in again.
	thief := a.client()
	thief.http.Jar.SetCookies(mustURL(a.srv.URL+"/myvpn"), old)
	expectPortalLogin(t, thief.get("/myvpn"))

	if n := a.portalEvents(models.EventPortal, models.SubSignedIn); n != 2 {
		t.Fatalf("%d portal Signed In events", n)
	}
}

func TestPortalLogoutEndsSessionServerSide(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.activeSDPUser("acme", "grace@example.com")
	c := a.client()
	c.portalSignIn("acme", "grace@example.com", testPassword, "")
	stolen := c.portalCookies()
	expectStatus(t, c.get("/myvpn"), http.StatusOK)

	r := c.post("/myvpn/logout", nil)
	expectPortalLogin(t, r)
	expectBody(t, c.get("/myvpn/login"), "You are signed out.")
	expectPortalLogin(t, c.get("/myvpn"))
	if n := a.portalEvents(models.EventPortal, models.SubSignedOut); n != 1 {
		t.Fatalf("%d Signed Out events", n)
	}

	// Replay the cookie captured while signed in.
	thief := a.client()
	thief.http.Jar.SetCookies(mustURL(a.srv.URL+"/myvpn"), stolen)
	expectPortalLogin(t, thief.get("/myvpn"))
}

func TestPortalSessionsEndedByTheConsole(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	u := a.activeSDPUser("acme", "grace@example.com")
	laptop, phone := a.client(), a.client()
	laptop.portalSignIn("acme", "grace@example.com", testPassword, "")
	phone.portalSignIn("acme", "grace@example.com", testPassword, "")
	expectStatus(t, laptop.get("/myvpn"), http.StatusOK)

	// What Reset password and Disable do: delete every portal session of the user.
	if err := a.store.DeleteOwnerSessions(context.Background(), models.PortalSession, u.ID, ""); err != nil {
		t.Fatal(err)
	}
	expectPortalLogin(t, laptop.get("/myvpn"))
	expectPortalLogin(t, phone.get("/myvpn/mfa"))

	// Disabling alone (without deleting the rows) also ends the sessions.
	phone.portalSignIn("acme", "grace@example.com", testPassword, "")
	a.setStatus(u, models.UserDisabled)
	expectPortalLogin(t, phone.get("/myvpn"))
}

func TestPortalSessionTimeouts(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.activeSDPUser("acme", "grace@example.com")
	c := a.client()
	c.portalSignIn("acme", "grace@example.com", testPassword, "")
	a.advance(29 * time.Minute)
	expectStatus(t, c.get("/myvpn"), http.StatusOK)
	a.advance(31 * time.Minute) // idle for longer than 30 minutes
	expectPortalLogin(t, c.get("/myvpn"))

	c.portalSignIn("acme", "grace@example.com", testPassword, "")
	for i := 0; i < 25; i++ { // active all along, but 12 hours is the limit
		a.advance(29 * time.Minute)
		c.get("/myvpn")
	}
	expectPortalLogin(t, c.get("/myvpn"))
}

func TestPortalChangePasswordEndsOtherSessions(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.activeSDPUser("acme", "grace@example.com")
	laptop, phone := a.client(), a.client()
	laptop.portalSignIn("acme", "grace@example.com", testPassword, "")
	phone.portalSignIn("acme", "grace@example.com", testPassword, "")

	r := laptop.get("/myvpn/password")
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="portal-password-form"`)
	r = laptop.post("/myvpn/password", url.Values{"current_password": {"not it at all"}, "password": {newPortalPassword}, "password_confirm": {newPortalPassword}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, `data-testid="error-current_password"`)
	r = laptop.post("/myvpn/password", url.Values{"current_password": {testPassword}, "password": {newPortalPassword}, "password_confirm": {"something else"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, `data-testid="error-password_confirm"`)
	r = laptop.post("/myvpn/password", url.Values{"current_password": {testPassword}, "password": {"password1234"}, "password_confirm": {"password1234"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, `data-testid="error-password"`)

	r = laptop.post("/myvpn/password", url.Values{"current_password": {testPassword}, "password": {newPortalPassword}, "password_confirm": {newPortalPassword}})
	expectStatus(t, r, http.StatusSeeOther)
	r = laptop.get("/myvpn")
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, "Your password is changed")
	expectPortalLogin(t, phone.get("/myvpn"))
	if n := a.portalEvents(models.EventPortal, models.SubPasswordChanged); n != 1 {
		t.Fatalf("%d Password Changed events", n)
	}
	expectStatus(t, a.client().portalLogin("acme", "grace@example.com", testPassword, ""), http.StatusUnauthorized)
	a.client().portalSignIn("acme", "grace@example.com", newPortalPassword, "")
	assertNoSecretInEvents(t, a, testPassword, newPortalPassword)
}

var (
	secretRE     = regexp.MustCompile(`id="totp-secret"[^>]*value="([A-Z2-7 ]+)"`)
	enrollmentRE = regexp.MustCompile(`name="enrollment" value="([^"]+)"`)
)

// enrollTOTP sets up MFA through the pages and returns the key.
func enrollTOTP(t *testing.T, a *testApp, c *client) string {
	t.Helper()
	r := c.get("/myvpn/mfa")
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `src="data:image/png;base64,`)
	m, p := secretRE.FindStringSubmatch(r.body), enrollmentRE.FindStringSubmatch(r.body)
	if m == nil || p == nil {
		t.Fatalf("no key or enrollment on the page\n%s", snippet(r.body))
	}
	key := strings.ReplaceAll(m[1], " ", "")

	// A wrong code keeps the same key on the page.
	r = c.post("/myvpn/mfa", url.Values{"enrollment": {p[1]}, "totp": {"000000"}})
	if code, _ := totp.GenerateCode(key, a.clock()); code == "000000" {
		t.Skip("the current code happens to be 000000")
	}
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, `data-testid="error-totp"`)
	if again := secretRE.FindStringSubmatch(r.body); again == nil || strings.ReplaceAll(again[1], " ", "") != key {
		t.Fatal("the key changed after a wrong code")
	}
	// A forged enrollment does not open.
	r = c.post("/myvpn/mfa", url.Values{"enrollment": {"forged"}, "totp": {"123456"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)

	code, err := totp.GenerateCode(key, a.clock())
	if err != nil {
		t.Fatal(err)
	}
	r = c.post("/myvpn/mfa", url.Values{"enrollment": {p[1]}, "totp": {code}})
	expectStatus(t, r, http.StatusSeeOther)
	return key
}

func TestPortalTOTP(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	u := a.activeSDPUser("acme", "grace@example.com")
	c := a.client()
	c.portalSignIn("acme", "grace@example.com", testPassword, "")
	expectBody(t, c.get("/myvpn"), `data-testid="mfa-setup"`)

	key := enrollTOTP(t, a, c)
	got := a.reload(u)
	if !got.MFAConfigured {
		t.Fatal("mfa_configured is false after enrollment")
	}
	if strings.Contains(got.TOTPSecret, key) {
		t.Fatal("the TOTP key is stored in clear")
	}
	if stored, err := a.Portal.TOTPSecret(got); err != nil || stored != key {
		t.Fatalf("stored key %q %v, want the one shown", stored, err)
	}
	if n := a.portalEvents(models.EventUser, models.SubMFAEnrolled); n != 1 {
		t.Fatalf("%d MFA Enrolled events", n)
	}
	r := c.get("/myvpn")
	expectBody(t, r, "Two-step verification is on")
	expectBody(t, r, `data-testid="mfa-status"><span class="badge badge-active">On<`)

	// Sign-in now needs the code.
	o := a.client()
	r = o.portalLogin("acme", "grace@example.com", testPassword, "")
	expectStatus(t, r, http.StatusUnauthorized)
	expectBody(t, r, `data-testid="error-totp"`)
	expectBody(t, r, "Your account has two-step verification")
	r = o.portalLogin("acme", "grace@example.com", testPassword, "000000")
	if code, _ := totp.GenerateCode(key, a.clock()); code != "000000" {
		expectStatus(t, r, http.StatusUnauthorized)
		expectBody(t, r, "The authenticator code is not right.")
	}
	// The code that confirmed the enrollment was used up; the next one works, once.
	code, _ := totp.GenerateCode(key, a.clock())
	expectStatus(t, o.portalLogin("acme", "grace@example.com", testPassword, code), http.StatusUnauthorized)
	a.advance(30 * time.Second)
	code, _ = totp.GenerateCode(key, a.clock())
	o.portalSignIn("acme", "grace@example.com", testPassword, code)
	expectStatus(t, a.client().portalLogin("acme", "grace@example.com", testPassword, code), http.StatusUnauthorized)
	if n := a.portalEvents(models.EventPortal, models.SubSignInFailed); n != 4 {
		t.Fatalf("%d Sign-in Failed events", n)
	}
	assertNoSecretInEvents(t, a, key, code, testPassword)

	// Removing MFA warns first, then wants a code or the password.
	r = o.get("/myvpn/mfa")
	expectBody(t, r, `data-testid="mfa-on"`)
	r = o.post("/myvpn/mfa/remove", nil)
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="confirm-page"`)
	if !a.reload(u).MFAConfigured {
		t.Fatal("MFA removed before the confirmation")
	}
	r = o.post("/myvpn/mfa/remove", url.Values{"confirm": {"1"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	r = o.post("/myvpn/mfa/remove", url.Values{"confirm": {"1"}, "password": {"not the password"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, `data-testid="error-password"`)
	r = o.post("/myvpn/mfa/remove", url.Values{"confirm": {"1"}, "password": {testPassword}})
	expectStatus(t, r, http.StatusSeeOther)
	if got := a.reload(u); got.MFAConfigured || got.TOTPSecret != "" {
		t.Fatalf("MFA still configured: %+v", got)
	}
	if n := a.portalEvents(models.EventUser, models.SubMFARemoved); n != 1 {
		t.Fatalf("%d MFA Removed events", n)
	}
	a.client().portalSignIn("acme", "grace@example.com", testPassword, "")

	// Enroll again and remove with a code this time.
	key = enrollTOTP(t, a, o)
	a.advance(30 * time.Second)
	code, _ = totp.GenerateCode(key, a.clock())
	o.post("/myvpn/mfa/remove", nil)
	r = o.post("/myvpn/mfa/remove", url.Values{"confirm": {"1"}, "totp": {code}})
	expectStatus(t, r, http.StatusSeeOther)
	if a.reload(u).MFAConfigured {
		t.Fatal("MFA still configured after removal with a code")
	}
}

func TestPortalActivationWithMFAAsksForTheCode(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	u := a.activeSDPUser("acme", "grace@example.com")
	c := a.client()
	c.portalSignIn("acme", "grace@example.com", testPassword, "")
	key := enrollTOTP(t, a, c)

	// An admin's Reset password keeps MFA; the new link sets a password but does not sign in.
	if err := a.store.ClearUsersPasswords(context.Background(), u.AccountID, []int64{u.ID}); err != nil {
		t.Fatal(err)
	}
	if err := a.store.DeleteOwnerSessions(context.Background(), models.PortalSession, u.ID, ""); err != nil {
		t.Fatal(err)
	}
	link := a.activationLink(u, 24*time.Hour)
	n := a.client()
	n.get(link)
	r := n.post(link, url.Values{"password": {newPortalPassword}, "password_confirm": {newPortalPassword}})
	expectPortalLogin(t, r)
	expectPortalLogin(t, n.get("/myvpn"))
	expectBody(t, n.get("/myvpn/login"), "authenticator app")
	a.advance(30 * time.Second)
	code, _ := totp.GenerateCode(key, a.clock())
	n.portalSignIn("acme", "grace@example.com", newPortalPassword, code)
}

func TestPortalAndConsoleSessionsAreSeparate(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	a.activeSDPUser("acme", "grace@example.com")

	// A console session does not open the portal.
	admin := a.client()
	admin.signIn("ada@example.com")
	expectPortalLogin(t, admin.get("/myvpn"))
	// Not even with the console cookie's value put in the portal cookie.
	forged := &http.Cookie{Name: "onramp_portal", Value: cookieValue(admin, "onramp_session"), Path: "/myvpn"}
	admin.http.Jar.SetCookies(mustURL(a.srv.URL+"/myvpn"), []*http.Cookie{forged})
	expectPortalLogin(t, admin.get("/myvpn"))
	expectStatus(t, admin.get("/"), http.StatusOK)

	// A portal session does not open the console.
	user := a.client()
	user.portalSignIn("acme", "grace@example.com", testPassword, "")
	r := user.get("/")
	expectStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "/login") {
		t.Fatalf("portal user sent to %q", loc)
	}
	forged = &http.Cookie{Name: "onramp_session", Value: user.portalCookie(), Path: "/"}
	user.http.Jar.SetCookies(mustURL(a.srv.URL), []*http.Cookie{forged})
	expectStatus(t, user.get("/"), http.StatusSeeOther)
	expectStatus(t, user.get("/myvpn"), http.StatusOK)

	// Both at once in one browser, each to its own.
	admin.portalSignIn("acme", "grace@example.com", testPassword, "")
	expectStatus(t, admin.get("/"), http.StatusOK)
	expectStatus(t, admin.get("/myvpn"), http.StatusOK)
	admin.post("/myvpn/logout", nil)
	expectStatus(t, admin.get("/"), http.StatusOK)
}

func TestPortalSecurityHeadersAndCSRF(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.activeSDPUser("acme", "grace@example.com")
	c := a.client()
	c.portalSignIn("acme", "grace@example.com", testPassword, "")
	for _, path := range []string{"/myvpn/login", "/myvpn", "/myvpn/mfa", "/myvpn/nothing-here"} {
		r := c.get(path)
		h := r.Header
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "'nonce-") ||
			strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: nosniff/frame headers missing", path)
		}
		if strings.Contains(r.body, " style=") || strings.Contains(r.body, "<script>") {
			t.Errorf("%s: inline style or script", path)
		}
	}
	// Errors on portal addresses stay in the portal's frame.
	r := c.get("/myvpn/nothing-here")
	expectStatus(t, r, http.StatusNotFound)
	expectBody(t, r, "MyVPN")
	expectBody(t, r, `href="/myvpn"`)

	// Every form needs the CSRF token.
	r = c.postRaw("/myvpn/logout", url.Values{})
	expectStatus(t, r, http.StatusForbidden)
	expectBody(t, r, "MyVPN")
	expectStatus(t, c.get("/myvpn"), http.StatusOK)
	r = a.client().postRaw("/myvpn/login", url.Values{"account": {"acme"}, "email": {"grace@example.com"}, "password": {testPassword}})
	expectStatus(t, r, http.StatusForbidden)
}

// assertNoSecretInEvents fails when any event row holds one of the secrets.
func assertNoSecretInEvents(t *testing.T, a *testApp, secrets ...string) {
	t.Helper()
	rows, err := a.store.SQLDB().Query("SELECT sub_type, actor_label, email, details FROM events")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var sub, actor, email, details string
		if err := rows.Scan(&sub, &actor, &email, &details); err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(sub+actor+email+details, s) {
				t.Fatalf("event %q holds a secret: %s", sub, details)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserPortalActivation is the flow a new user clicks through: open the invitation's
// link, choose a password, land signed in on MyVPN.
func TestBrowserPortalActivation(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	u := a.sdpUser("acme", "grace@example.com")
	link := a.activationLink(u, 24*time.Hour)
	ctx := browser(t)

	submit := chromedp.CSS(`form[data-testid=activation-form] button[type=submit]`)
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.srv.URL+link),
		chromedp.WaitVisible(chromedp.CSS(`form[data-testid=activation-form] input[name=password]`)),
		// A mismatch is refused and the page stays.
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), newPortalPassword),
		chromedp.SendKeys(chromedp.CSS(`input[name=password_confirm]`), "something else entirely"),
		chromedp.Click(submit),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=error-password_confirm]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), newPortalPassword),
		chromedp.SendKeys(chromedp.CSS(`input[name=password_confirm]`), newPortalPassword),
		chromedp.Click(submit),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=portal-email]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	email, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid=portal-email]`)))
	if err != nil {
		t.Fatal(err)
	}
	flash, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid=flash]`)))
	if err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if email != "grace@example.com" || loc != a.srv.URL+"/myvpn" || !strings.Contains(flash, "Your account is active") {
		t.Fatalf("landed on %q showing %q, flash %q", loc, email, flash)
	}
	// The stylesheet applies under the CSP, and the MFA page's QR code loads (img-src data:).
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector(".topbar")).display === "flex"`))
	if err != nil || !ok {
		t.Fatalf("the stylesheet did not apply: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid=mfa-setup]`)),
		chromedp.WaitVisible(chromedp.CSS(`img[data-testid=mfa-qr]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("img[data-testid=mfa-qr]").naturalWidth > 0`))
	if err != nil || !ok {
		t.Fatalf("the QR code did not load: %v", err)
	}
	if got := a.reload(u); got.Activation != models.ActivationActive {
		t.Fatalf("activation %q", got.Activation)
	}
}
