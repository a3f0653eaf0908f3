package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"onramp/models"
)

// Console two-step verification (TOTP) of admins: set up on /account/two-step, asked at
// sign-in, turned off by the admin or, for a lost phone, by another admin.

// totpCode is the authenticator's code for key at the app's clock plus offset.
func (a *testApp) totpCode(key string, offset time.Duration) string {
	a.t.Helper()
	code, err := totp.GenerateCode(key, a.clock().Add(offset))
	if err != nil {
		a.t.Fatal(err)
	}
	return code
}

// notTheCode is a six-digit code key does not give at the app's clock, one step either side.
func (a *testApp) notTheCode(key string) string {
	for _, c := range []string{"000000", "999999"} {
		if c != a.totpCode(key, 0) && c != a.totpCode(key, -30*time.Second) && c != a.totpCode(key, 30*time.Second) {
			return c
		}
	}
	return "123456"
}

// setUpTwoStep turns two-step verification on through the console's page, as a person would:
// read the key off the page, type one wrong code, then the right one. It returns the key.
func (c *client) setUpTwoStep(t *testing.T) string {
	t.Helper()
	page := c.get("/account/two-step")
	expectStatus(t, page, http.StatusOK)
	expectBody(t, page, `data-testid="mfa-status"><span class="badge badge-neutral">Off<`)
	expectBody(t, page, `data-testid="mfa-qr"`)
	keyM, pendingM := secretRE.FindStringSubmatch(page.body), enrollmentRE.FindStringSubmatch(page.body)
	if keyM == nil || pendingM == nil {
		t.Fatalf("the page shows no key to scan\n%s", snippet(page.body))
	}
	key, pending := strings.ReplaceAll(keyM[1], " ", ""), pendingM[1]

	bad := c.post("/account/two-step", url.Values{"enrollment": {pending}, "totp": {c.app.notTheCode(key)}})
	expectStatus(t, bad, http.StatusUnprocessableEntity)
	expectBody(t, bad, "The code is not right.")
	if k := secretRE.FindStringSubmatch(bad.body); k == nil || strings.ReplaceAll(k[1], " ", "") != key {
		t.Fatal("a wrong code changed the key to scan")
	}
	done := c.post("/account/two-step", url.Values{"enrollment": {pending}, "totp": {c.app.totpCode(key, 0)}})
	expectStatus(t, done, http.StatusSeeOther)
	if loc := done.Header.Get("Location"); loc != "/account/two-step" {
		t.Fatalf("after set-up: to %q", loc)
	}
	expectBody(t, c.get("/account/two-step"), `data-testid="mfa-status"><span class="badge badge-active">On<`)
	return key
}

// login posts the sign-in form with an authenticator code.
func (c *client) login(email, password, code string) response {
	c.t.Helper()
	c.get("/login")
	return c.post("/login", url.Values{"email": {email}, "password": {password}, "totp": {code}})
}

func TestConsoleTwoStep(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ada := a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	c, laptop := a.client(), a.client()
	c.signIn("ada@example.com")
	laptop.signIn("ada@example.com")
	home := c.get("/")
	expectBody(t, home, `href="/account/two-step" data-testid="two-step-link"`)

	key := c.setUpTwoStep(t)
	stored, err := a.store.Admin(context.Background(), ada.AccountID, ada.ID)
	if err != nil || !stored.HasTOTP() || strings.Contains(stored.TOTPSecret, key) {
		t.Fatalf("stored key %q (%v): want it sealed", stored.TOTPSecret, err)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE type = 'Admin' AND sub_type = ?", models.SubMFAEnrolled); n != 1 {
		t.Fatalf("%d Admin / MFA Enrolled events", n)
	}
	// Turning it on signed out the other session, not this one.
	expectStatus(t, laptop.get("/"), http.StatusSeeOther)
	expectStatus(t, c.get("/"), http.StatusOK)
	expectStatus(t, c.post("/logout", nil), http.StatusSeeOther)

	// Signing in now takes the code, after the password.
	r := c.login("ada@example.com", testPassword, "")
	expectStatus(t, r, http.StatusUnauthorized)
	expectBody(t, r, `data-testid="error-totp"`)
	expectBody(t, r, "Your account has two-step verification: enter your password again")
	r = c.login("ada@example.com", testPassword, a.notTheCode(key))
	expectStatus(t, r, http.StatusUnauthorized)
	expectBody(t, r, "The authenticator code is not right.")
	r = c.login("ada@example.com", "not the password at all", a.totpCode(key, 0))
	expectStatus(t, r, http.StatusUnauthorized)
	expectBody(t, r, "The email or password is not right.")
	if strings.Contains(r.body, `data-testid="error-totp"`) {
		t.Fatal("a wrong password is told about the authenticator code")
	}
	// The code that confirmed the set-up is used up; the next one signs in, once.
	expectStatus(t, c.login("ada@example.com", testPassword, a.totpCode(key, 0)), http.StatusUnauthorized)
	a.advance(30 * time.Second)
	code := a.totpCode(key, 0)
	r = c.login("ada@example.com", testPassword, code)
	expectStatus(t, r, http.StatusSeeOther)
	expectStatus(t, c.get("/"), http.StatusOK)
	expectStatus(t, a.client().login("ada@example.com", testPassword, code), http.StatusUnauthorized)
	for reason, want := range map[string]int{"authenticator code missing": 1, "wrong authenticator code": 3, "wrong password": 1} {
		if n := a.countSQL("SELECT COUNT(*) FROM events WHERE sub_type = ? AND details LIKE ?", models.SubSignInFailed,
			`%"reason":"`+reason+`"%`); n != want {
			t.Errorf("%d sign-in failures for %q, want %d", n, reason, want)
		}
	}
	assertNoSecretInEvents(t, a, key, code, testPassword)

	// Turning it off warns first, then wants a code or the password.
	r = c.post("/account/two-step/remove", nil)
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="confirm-page"`)
	expectBody(t, r, "Your password alone will then open your console account.")
	r = c.post("/account/two-step/remove", url.Values{"confirm": {"1"}, "password": {"not the password at all"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, `data-testid="error-password"`)
	r = c.post("/account/two-step/remove", url.Values{"confirm": {"1"}, "password": {testPassword}})
	expectStatus(t, r, http.StatusSeeOther)
	expectBody(t, c.get("/account/two-step"), `data-testid="mfa-status"><span class="badge badge-neutral">Off<`)
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE type = 'Admin' AND sub_type = ? AND details LIKE ?",
		models.SubMFARemoved, `%"verified_with":"password"%`); n != 1 {
		t.Fatalf("%d Admin / MFA Removed events verified with the password", n)
	}
	expectStatus(t, c.get("/"), http.StatusOK) // turning it off keeps the session
	a.client().signIn("ada@example.com")
}

func TestAdminTurnsOffAnotherAdminsTwoStep(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	ops := a.createAdmin("acme", "ops@example.com", models.RoleAdmin)
	a.createAdmin("acme", "help@example.com", models.RoleHelpdesk)
	stranger := a.createAdmin("globex", "gal@globex.example", models.RoleAdmin)

	o := a.client()
	o.signIn("ops@example.com")
	o.setUpTwoStep(t)
	turnOff := fmt.Sprintf("/settings/administrators/%d/two-step/remove", ops.ID)

	b := a.client()
	b.signIn("boss@example.com")
	list := b.get("/settings/administrators")
	expectBody(t, list, "<th scope=\"col\">Two-step</th>")
	expectBody(t, list, `data-testid="admin-two-step"><span class="badge badge-active">On<`)
	expectBody(t, list, `action="`+turnOff+`"`)

	// Helpdesk may not; another account's admin is not found; nobody does it to themselves here.
	h := a.client()
	h.signIn("help@example.com")
	expectStatus(t, h.post(turnOff, url.Values{"confirm": {"1"}}), http.StatusForbidden)
	expectStatus(t, h.get("/account/two-step"), http.StatusOK) // their own, they may
	foreign := fmt.Sprintf("/settings/administrators/%d/two-step/remove", stranger.ID)
	expectStatus(t, b.post(foreign, nil), http.StatusNotFound)
	expectStatus(t, b.post(foreign, url.Values{"confirm": {"1"}}), http.StatusNotFound)
	expectStatus(t, b.post(fmt.Sprintf("/settings/administrators/%d/two-step/remove", boss.ID), url.Values{"confirm": {"1"}}), http.StatusForbidden)

	// The warning: a page without JavaScript, a dialog for htmx.
	r := b.post(turnOff, nil)
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="confirm-page"`)
	expectBody(t, r, "Turn off two-step verification for")
	b.header.Set("HX-Request", "true")
	expectBody(t, b.post(turnOff, nil), `data-testid="confirm-dialog"`)
	b.header.Del("HX-Request")
	if got, _ := a.store.Admin(context.Background(), ops.AccountID, ops.ID); !got.HasTOTP() {
		t.Fatal("turned off before the confirmation")
	}

	r = b.post(turnOff, url.Values{"confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	list = b.get("/settings/administrators")
	expectBody(t, list, "Two-step verification is off for")
	expectBody(t, list, `data-testid="admin-two-step"><span class="badge badge-neutral">Off<`)
	if strings.Contains(list.body, `action="`+turnOff+`"`) {
		t.Fatal("the action is still offered")
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE type = 'Admin' AND sub_type = ? AND actor_label = ? AND email = ?",
		models.SubMFARemoved, "boss@example.com", "ops@example.com"); n != 1 {
		t.Fatalf("%d Admin / MFA Removed events naming boss and ops", n)
	}
	// Again: nothing to do, said so.
	expectStatus(t, b.post(turnOff, url.Values{"confirm": {"1"}}), http.StatusSeeOther)
	expectBody(t, b.get("/settings/administrators"), "does not have two-step verification on")
	// ops signs in with the password alone, and keeps the session they had.
	expectStatus(t, o.get("/"), http.StatusOK)
	a.client().signIn("ops@example.com")
}
