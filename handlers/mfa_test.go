package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"onramp/models"
	"onramp/models/devices"
)

// setMFA turns a user's MFA flag on or off behind the services' back (no key, no event).
func (a *testApp) setMFA(u *models.SDPUser, on bool) {
	a.t.Helper()
	a.execSQL("UPDATE sdp_users SET mfa_configured = ? WHERE id = ?", on, u.ID)
}

// TestClientRegisterRefusesMFAUsers: registration codes do not support MFA, so the code of a
// user with MFA is refused (403 mfa_configured) and stays active: once MFA is removed it works.
func TestClientRegisterRefusesMFAUsers(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	u := a.sdpUser("acme", "grace@example.com")
	code := a.insertCode(u, time.Hour)
	a.setMFA(u, true)

	r := a.api("POST", "/api/v1/client/register", "", registerBody(code, "laptop"))
	expectAPI(t, r, http.StatusForbidden, "mfa_configured")
	if !strings.Contains(r.str("message"), "two-step verification") {
		t.Fatalf("message %q does not say why", r.str("message"))
	}
	if used, wiped, _ := a.codeRow(code); used || wiped {
		t.Fatalf("the code of an MFA user was used up (used %v, wiped %v)", used, wiped)
	}
	if got := a.reload(u); got.ActiveCodes != 1 || got.Devices != 0 {
		t.Fatalf("counters: %d active codes, %d devices", got.ActiveCodes, got.Devices)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM devices"); n != 0 {
		t.Fatalf("%d devices registered", n)
	}
	if n := a.clientEvents(models.EventClient, models.SubClientCodeRejected, `"reason":"mfa configured"`); n != 1 {
		t.Fatalf("%d Code Rejected events for MFA, want 1", n)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE sub_type = ? AND sdp_user_id = ?", models.SubClientCodeRejected, u.ID); n != 1 {
		t.Fatalf("%d rejections name the user, want 1", n)
	}

	a.setMFA(u, false)
	token, _ := a.register(code, "laptop")
	expectAPI(t, a.api("GET", "/api/v1/client/session", token, nil), http.StatusOK, "")
	assertNoSecretInEvents(t, a, token, code, strings.ReplaceAll(code, "-", ""))
}

// TestClientRegisterRefusesMFAUsersConcurrently: the MFA check is part of the redemption's
// conditional update, so no number of simultaneous tries gets a device through.
func TestClientRegisterRefusesMFAUsersConcurrently(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.Devices.WithLimits(devices.Limits{IPFailBurst: 100000, IPFailEvery: time.Second, FloodBurst: 100000, FloodEvery: time.Second})
	u := a.sdpUser("acme", "grace@example.com")
	code := a.insertCode(u, time.Hour)
	a.setMFA(u, true)
	const clients = 50
	results := a.registerAtOnce(code, clients)
	if results["403 mfa_configured"] != clients {
		t.Fatalf("answers %v, want %d × 403 mfa_configured", results, clients)
	}
	if used, _, _ := a.codeRow(code); used {
		t.Fatal("the code was used up")
	}
}

// withTOTP gives a user a (fake) stored TOTP key, as enrollment leaves it.
func (a *testApp) withTOTP(u *models.SDPUser) {
	a.t.Helper()
	a.execSQL("UPDATE sdp_users SET mfa_configured = ?, totp_secret = 'sealed-key', totp_last_step = 1234 WHERE id = ?", true, u.ID)
}

// TestRemoveMFAAction: admins and helpdesk staff remove MFA from the selected users after a
// confirmation; users without MFA are skipped and counted; the key goes, the portal sessions
// end, and an event names who did it. Then the user's code registers and the method switch
// to Registration Code goes through.
func TestRemoveMFAAction(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.createAdmin("acme", "help@example.com", models.RoleHelpdesk)
	us := a.seedUsers(boss.AccountID, 3, nil)
	a.withTOTP(us[0])
	a.withTOTP(us[2])
	code := a.insertCode(us[0], time.Hour)
	sessID := a.insertPortalSession(us[0].ID, "portal-token")
	otherSess := a.insertPortalSession(us[1].ID, "other-token")

	c := a.client()
	c.signIn("help@example.com")
	expectBody(t, c.get("/access/users"), `data-testid="action-remove_mfa"`)
	expectBody(t, c.get(fmt.Sprintf("/access/users/%d", us[0].ID)), `data-testid="action-remove_mfa"`)
	form := url.Values{"action": {"remove_mfa"}, "ids": {fmt.Sprint(us[0].ID), fmt.Sprint(us[1].ID)}}
	r := c.post("/access/users/actions", form)
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="confirm-page"`)
	expectBody(t, r, "Remove MFA: 2 users?")
	if !a.reload(us[0]).MFAConfigured {
		t.Fatal("MFA removed before the confirmation")
	}
	form.Set("confirm", "1")
	expectStatus(t, c.post("/access/users/actions", form), http.StatusSeeOther)
	expectBody(t, c.get("/access/users"), "Removed MFA from 1 user. 1 skipped (no MFA configured).")

	got := a.reload(us[0])
	if got.MFAConfigured || got.TOTPSecret != "" || got.TOTPLastStep != 0 {
		t.Fatalf("MFA left behind: configured %v, key %q, last step %d", got.MFAConfigured, got.TOTPSecret, got.TOTPLastStep)
	}
	if !a.reload(us[2]).MFAConfigured {
		t.Fatal("an unselected user lost MFA")
	}
	if a.portalSessionExists(sessID) {
		t.Fatal("the user's portal session survived the removal of MFA")
	}
	if !a.portalSessionExists(otherSess) {
		t.Fatal("a skipped user's portal session was ended")
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE type = ? AND sub_type = ? AND sdp_user_id = ? AND actor_type = ? AND actor_label = ?",
		string(models.EventUser), models.SubMFARemoved, us[0].ID, string(models.ActorHelpdesk), "help@example.com"); n != 1 {
		t.Fatalf("%d MFA Removed events naming the helpdesk actor, want 1", n)
	}
	if n := a.eventCount(models.SubMFARemoved); n != 1 {
		t.Fatalf("%d MFA Removed events, want 1 (skipped users get none)", n)
	}
	// The user page says so.
	r = c.get(fmt.Sprintf("/access/users/%d", us[0].ID))
	expectBody(t, r, `data-testid="user-mfa">Not configured`)

	// The code registers now.
	a.register(code, "laptop")

	// The method switch names the action, and goes through once no user has MFA.
	ac := a.client()
	ac.signIn("boss@example.com")
	ac.get("/access/directory-services/provisioning")
	switchForm := url.Values{"method": {"registration_code"}, "code_expiry_value": {"7"}, "code_expiry_unit": {"days"}}
	r = ac.post("/access/directory-services/provisioning", switchForm)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, "choose Remove MFA in the Actions menu")
	expectBody(t, r, `href="/access/users?mfa=yes"`)
	ac.get("/access/users")
	expectStatus(t, ac.post("/access/users/actions", url.Values{"action": {"remove_mfa"}, "all_matching": {"1"}, "mfa": {"yes"}, "confirm": {"1"}}),
		http.StatusSeeOther)
	expectBody(t, ac.get("/access/users"), "Removed MFA from 1 user.")
	ac.get("/access/directory-services/provisioning")
	expectStatus(t, ac.post("/access/directory-services/provisioning", switchForm), http.StatusSeeOther)
}

// TestPortalOffersNoMFAUnderRegistrationCode: codes do not support MFA, so under the
// Registration Code method MyVPN neither links to the set-up nor serves it, and refuses a
// confirmation begun before the switch; a user who has MFA can still turn it off.
func TestPortalOffersNoMFAUnderRegistrationCode(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	u := a.activeSDPUser("acme", "grace@example.com")
	c := a.client()
	c.portalSignIn("acme", "grace@example.com", testPassword, "")
	// An enrollment begun under Invitation Email, confirmed after the switch.
	r := c.get("/myvpn/mfa")
	expectStatus(t, r, http.StatusOK)
	m, p := secretRE.FindStringSubmatch(r.body), enrollmentRE.FindStringSubmatch(r.body)
	if m == nil || p == nil {
		t.Fatalf("no enrollment on the page\n%s", snippet(r.body))
	}
	a.execSQL("UPDATE accounts SET provisioning_method = ? WHERE id = ?", string(models.MethodRegistrationCode), u.AccountID)

	r = c.get("/myvpn")
	expectStatus(t, r, http.StatusOK)
	if strings.Contains(r.body, `data-testid="mfa-setup"`) {
		t.Fatal("MyVPN links to the MFA set-up under Registration Code")
	}
	expectBody(t, r, `data-testid="mfa-not-offered"`)
	r = c.get("/myvpn/mfa")
	expectStatus(t, r, http.StatusForbidden)
	expectBody(t, r, "registration codes")
	if strings.Contains(r.body, `name="enrollment"`) {
		t.Fatal("the set-up page is served under Registration Code")
	}
	code, err := totp.GenerateCode(strings.ReplaceAll(m[1], " ", ""), a.clock())
	if err != nil {
		t.Fatal(err)
	}
	r = c.post("/myvpn/mfa", url.Values{"enrollment": {p[1]}, "totp": {code}})
	expectStatus(t, r, http.StatusForbidden)
	expectBody(t, r, "registration codes")
	if a.reload(u).MFAConfigured {
		t.Fatal("MFA enrolled under Registration Code")
	}
	if n := a.eventCount(models.SubMFAEnrolled); n != 0 {
		t.Fatalf("%d MFA Enrolled events", n)
	}

	// A user who had MFA before the switch manages and removes it as before.
	a.execSQL("UPDATE accounts SET provisioning_method = ? WHERE id = ?", string(models.MethodInvitationEmail), u.AccountID)
	enrollTOTP(t, a, c)
	a.execSQL("UPDATE accounts SET provisioning_method = ? WHERE id = ?", string(models.MethodRegistrationCode), u.AccountID)
	expectBody(t, c.get("/myvpn"), "Manage")
	expectBody(t, c.get("/myvpn/mfa"), `data-testid="mfa-on"`)
	c.post("/myvpn/mfa/remove", nil)
	expectStatus(t, c.post("/myvpn/mfa/remove", url.Values{"confirm": {"1"}, "password": {testPassword}}), http.StatusSeeOther)
	if a.reload(u).MFAConfigured {
		t.Fatal("MFA could not be removed under Registration Code")
	}
}
