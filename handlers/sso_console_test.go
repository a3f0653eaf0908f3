package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"onramp/models"
	"onramp/models/sso/ssotest"
)

// consoleSSO signs in with the provider as u from the console's sign-in page and returns the
// answer of the callback.
func (a *ssoApp) consoleSSO(t *testing.T, c *client, u ssotest.User) response {
	t.Helper()
	page := c.get("/login?account=acme")
	expectBody(t, page, `data-testid="console-sso-button"`)
	return c.get(a.signInAt(t, c.get("/sso/console/start?account=acme"), u))
}

// Console single sign-on: the settings' break-glass rule, the refusal of password sign-in to the
// others, an SSO sign-in that is a session like any other (it ends on logout and on disable),
// and the refusals of unknown and disabled admins.
func TestConsoleSSO(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, withGroups)
	bob := a.createAdmin("acme", "bob@example.com", models.RoleAdmin)
	ada, adaID := a.admin, strconv.FormatInt(a.ssoAdmin(t).ID, 10)
	expectStatus(t, ada.get("/access/directory-services/sso/console"), http.StatusOK)
	// Password sign-in off with no break-glass admin: refused, nothing saved.
	r := ada.post("/access/directory-services/sso/console", url.Values{"console_sso": {"on"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, `data-testid="error-break_glass"`)
	r = ada.post("/access/directory-services/sso/console", url.Values{"console_sso": {"on"}, "break_glass": {adaID}})
	expectStatus(t, r, http.StatusSeeOther)
	if n := a.clientEvents(models.EventAdmin, models.SubSettingsChanged, `"console_sso":"on"`); n != 1 {
		t.Fatalf("%d Settings Changed events", n)
	}
	r = ada.get("/access/directory-services/sso/console")
	expectBody(t, r, `name="break_glass" value="`+adaID+`" checked`)

	// Bob has the right password, but is not a break-glass admin.
	b := a.client()
	b.get("/login")
	r = b.post("/login", url.Values{"email": {"bob@example.com"}, "password": {testPassword}})
	expectStatus(t, r, http.StatusForbidden)
	expectBody(t, r, "Password sign-in is turned off")
	expectBody(t, r, `data-testid="console-sso-button"`)
	if n := a.clientEvents(models.EventAdmin, models.SubSignInFailed, "not a break-glass admin"); n != 1 {
		t.Fatalf("%d refusal events", n)
	}
	// The break-glass admin still signs in with a password.
	a.client().signIn("ada@example.com")

	// Bob signs in with the provider: a console session.
	bobAtOP := a.op.AddUser(ssotest.User{Email: "bob@example.com", EmailVerified: true})
	r = a.consoleSSO(t, b, bobAtOP)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("callback: %d %q\n%s", r.StatusCode, r.Header.Get("Location"), snippet(r.body))
	}
	expectStatus(t, b.get("/"), http.StatusOK)
	if n := a.clientEvents(models.EventAdmin, models.SubSignedIn, `"via":"sso"`); n != 1 {
		t.Fatalf("%d Signed In events via sso", n)
	}
	b.post("/logout", nil)
	expectStatus(t, b.get("/"), http.StatusSeeOther)
	// Signed in again, then disabled by Ada: the session dies.
	a.consoleSSO(t, b, bobAtOP)
	expectStatus(t, b.get("/"), http.StatusOK)
	ada.get("/settings/administrators")
	expectStatus(t, ada.post(fmt.Sprintf("/settings/administrators/%d/disable", bob.ID), url.Values{"confirm": {"1"}}), http.StatusSeeOther)
	expectStatus(t, b.get("/"), http.StatusSeeOther)
	// A disabled admin, and someone who is no admin, are refused after the provider's success.
	r = a.consoleSSO(t, a.client(), bobAtOP)
	expectStatus(t, r, http.StatusForbidden)
	expectBody(t, r, "disabled")
	r = a.consoleSSO(t, a.client(), a.op.AddUser(ssotest.User{Email: "mallory@example.com", EmailVerified: true}))
	expectStatus(t, r, http.StatusForbidden)
	expectBody(t, r, "There is no administrator mallory@example.com")
	for _, reason := range []string{"admin disabled", "unknown admin"} {
		if n := a.clientEvents(models.EventAdmin, models.SubSignInFailed, reason); n != 1 {
			t.Fatalf("%s: %d events", reason, n)
		}
	}
}

// Helpdesk staff cannot see or change the console sign-in settings; an account without
// console single sign-on has no button and its start is refused.
func TestConsoleSSOSettingsAreForAdmins(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, withGroups)
	a.createAdmin("acme", "hal@example.com", models.RoleHelpdesk)
	h := a.client()
	h.signIn("hal@example.com")
	expectStatus(t, h.get("/access/directory-services/sso/console"), http.StatusForbidden)
	expectStatus(t, h.post("/access/directory-services/sso/console", url.Values{"console_sso": {"on"}, "password_sign_in": {"on"}}), http.StatusForbidden)
	c, err := a.Auth.ConsoleSSO(context.Background(), a.acct.ID)
	if err != nil || c.Enabled {
		t.Fatalf("helpdesk changed the settings: %+v %v", c, err)
	}
	v := a.client()
	r := v.get("/login?account=acme")
	expectStatus(t, r, http.StatusOK)
	if strings.Contains(r.body, `data-testid="console-sso-button"`) {
		t.Fatal("a button for an account without console single sign-on")
	}
	expectStatus(t, v.get("/sso/console/start?account=acme"), http.StatusNotFound)
}

// Admins created on their first sign-in get the role of their groups: Admin before Helpdesk;
// someone in no listed group is refused.
func TestConsoleSSOCreatesAdminsFromGroups(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, withGroups)
	ada := a.admin
	ada.get("/access/directory-services/sso/console")
	expectStatus(t, ada.post("/access/directory-services/sso/console", url.Values{"console_sso": {"on"}, "password_sign_in": {"on"},
		"create_admins": {"on"}, "admin_groups": {"vpn-admins"}, "helpdesk_groups": {" helpdesk , support,"}}), http.StatusSeeOther)
	for email, tc := range map[string]struct {
		groups []string
		role   models.Role
	}{
		"dana@example.com":  {[]string{"support"}, models.RoleHelpdesk},
		"frank@example.com": {[]string{"helpdesk", "vpn-admins"}, models.RoleAdmin},
		"erin@example.com":  {[]string{"sales"}, ""},
	} {
		c := a.client()
		r := a.consoleSSO(t, c, a.op.AddUser(ssotest.User{Email: email, EmailVerified: true, GivenName: "New", FamilyName: "Admin", Groups: tc.groups}))
		n := a.countSQL("SELECT COUNT(*) FROM admins WHERE email = ? AND role = ? AND password_hash = ''", email, string(tc.role))
		if tc.role == "" {
			expectStatus(t, r, http.StatusForbidden)
			if a.countSQL("SELECT COUNT(*) FROM admins WHERE email = ?", email) != 0 {
				t.Fatalf("%s was created", email)
			}
			continue
		}
		if r.StatusCode != http.StatusSeeOther || n != 1 {
			t.Fatalf("%s: %d, %d admins with role %s", email, r.StatusCode, n, tc.role)
		}
		expectStatus(t, c.get("/"), http.StatusOK)
	}
	if n := a.clientEvents(models.EventAdmin, models.SubAdminCreated, `"via":"sso"`); n != 2 {
		t.Fatalf("%d Admin Created events", n)
	}
	if n := a.clientEvents(models.EventAdmin, models.SubSignInFailed, "no admin group"); n != 1 {
		t.Fatalf("%d no-group refusals", n)
	}
}
