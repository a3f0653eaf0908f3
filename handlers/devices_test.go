package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"onramp/models"
)

// Devices on the user page and on the MyVPN portal.

func signOutPath(u *models.SDPUser, deviceID int64) string {
	return fmt.Sprintf("/access/users/%d/devices/%d/sign-out", u.ID, deviceID)
}

func TestUserPageDevices(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.createAdmin("acme", "help@example.com", models.RoleHelpdesk)
	u := a.activeSDPUser("acme", "grace@example.com")
	laptop, laptopID := a.register(a.insertCode(u, time.Hour), "Grace's laptop")
	r := a.api("POST", "/api/v1/client/login", "", loginBody("grace@example.com", testPassword, ""))
	expectAPI(t, r, http.StatusCreated, "")
	phone := r.str("device_token")
	phoneID := int64(r.body["device_id"].(float64))

	c := a.client()
	c.signIn("boss@example.com")
	page := c.get(fmt.Sprintf("/access/users/%d", u.ID))
	expectStatus(t, page, http.StatusOK)
	expectBody(t, page, `data-testid="devices"`)
	if n := strings.Count(page.body, `data-testid="device"`); n != 2 {
		t.Fatalf("%d devices listed, want 2", n)
	}
	for _, want := range []string{"Grace&#39;s laptop", "Registration code", "Password", "linux", "macos", `data-testid="device-sign-out"`} {
		expectBody(t, page, want)
	}

	// Without confirm=1 the answer is the warning: a page without JavaScript, a dialog for htmx.
	r2 := c.post(signOutPath(u, laptopID), nil)
	expectStatus(t, r2, http.StatusOK)
	expectBody(t, r2, `data-testid="confirm-page"`)
	expectBody(t, r2, "Grace&#39;s laptop")
	c.header.Set("HX-Request", "true")
	r2 = c.post(signOutPath(u, laptopID), nil)
	c.header.Del("HX-Request")
	expectStatus(t, r2, http.StatusOK)
	expectBody(t, r2, `data-testid="confirm-dialog"`)
	expectAPI(t, a.api("GET", "/api/v1/client/session", laptop, nil), http.StatusOK, "")

	// Confirmed: signed out, counted, recorded with the admin as actor.
	r2 = c.post(signOutPath(u, laptopID), url.Values{"confirm": {"1"}})
	expectStatus(t, r2, http.StatusSeeOther)
	if loc := r2.Header.Get("Location"); loc != fmt.Sprintf("/access/users/%d", u.ID) {
		t.Fatalf("sent to %q", loc)
	}
	expectAPI(t, a.api("GET", "/api/v1/client/session", laptop, nil), http.StatusUnauthorized, "invalid_token")
	expectAPI(t, a.api("GET", "/api/v1/client/session", phone, nil), http.StatusOK, "")
	if got := a.reload(u); got.Devices != 1 {
		t.Fatalf("devices counter %d, want 1", got.Devices)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE sub_type = ? AND type = ? AND actor_label = ? AND device_id = ?",
		models.SubDeviceSignedOut, string(models.EventDevice), "boss@example.com", laptopID); n != 1 {
		t.Fatalf("%d Signed Out events by the admin", n)
	}
	page = c.get(fmt.Sprintf("/access/users/%d", u.ID))
	expectBody(t, page, "is signed out")
	expectBody(t, page, "signed out by an admin")
	if n := strings.Count(page.body, `data-testid="device-sign-out"`); n != 1 {
		t.Fatalf("%d sign-out buttons, want 1 (the phone)", n)
	}
	// Signing out again changes nothing.
	r2 = c.post(signOutPath(u, laptopID), url.Values{"confirm": {"1"}})
	expectStatus(t, r2, http.StatusSeeOther)
	if n := a.portalEvents(models.EventDevice, models.SubDeviceSignedOut); n != 1 {
		t.Fatalf("%d Signed Out events after a repeat", n)
	}
	if got := a.reload(u); got.Devices != 1 {
		t.Fatalf("devices counter %d after a repeat", got.Devices)
	}

	// Helpdesk staff may sign devices out too.
	h := a.client()
	h.signIn("help@example.com")
	h.get(fmt.Sprintf("/access/users/%d", u.ID))
	expectStatus(t, h.post(signOutPath(u, phoneID), url.Values{"confirm": {"1"}}), http.StatusSeeOther)
	expectAPI(t, a.api("GET", "/api/v1/client/session", phone, nil), http.StatusUnauthorized, "invalid_token")

	// Ids are scoped: another user's path, another account's admin, junk ids all answer 404.
	other := a.activeSDPUser("acme", "ada@example.com")
	_, otherID := a.register(a.insertCode(other, time.Hour), "Ada's laptop")
	expectStatus(t, c.post(signOutPath(u, otherID), url.Values{"confirm": {"1"}}), http.StatusNotFound)
	expectStatus(t, c.post(signOutPath(u, otherID), nil), http.StatusNotFound)
	expectStatus(t, c.post("/access/users/x/devices/1/sign-out", url.Values{"confirm": {"1"}}), http.StatusNotFound)
	a.createAdmin("globex", "eve@example.com", models.RoleAdmin)
	eve := a.client()
	eve.signIn("eve@example.com")
	eve.get("/")
	expectStatus(t, eve.post(signOutPath(other, otherID), url.Values{"confirm": {"1"}}), http.StatusNotFound)
	expectStatus(t, eve.post(signOutPath(other, otherID), nil), http.StatusNotFound)
	if got := a.reload(other); got.Devices != 1 {
		t.Fatal("another account's admin signed a device out")
	}
	// A signed-out visitor is sent to sign in, and the form needs its CSRF token.
	expectStatus(t, a.client().postRaw(signOutPath(other, otherID), url.Values{"confirm": {"1"}}), http.StatusForbidden)
	expectStatus(t, c.postRaw(signOutPath(other, otherID), url.Values{"confirm": {"1"}}), http.StatusForbidden)
}

func TestPortalDevices(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	u := a.activeSDPUser("acme", "grace@example.com")
	laptop, laptopID := a.register(a.insertCode(u, time.Hour), "Grace's laptop")
	phone, _ := a.register(a.insertCode(u, time.Hour), "Grace's phone")
	other := a.activeSDPUser("acme", "ada@example.com")
	_, otherID := a.register(a.insertCode(other, time.Hour), "Ada's laptop")

	c := a.client()
	c.portalSignIn("acme", "grace@example.com", testPassword, "")
	home := c.get("/myvpn")
	expectStatus(t, home, http.StatusOK)
	if n := strings.Count(home.body, `data-testid="device"`); n != 2 {
		t.Fatalf("%d devices on MyVPN, want 2", n)
	}
	expectBody(t, home, "Grace&#39;s phone")
	if strings.Contains(home.body, "Ada&#39;s laptop") {
		t.Fatal("another user's device is listed")
	}

	path := fmt.Sprintf("/myvpn/devices/%d/sign-out", laptopID)
	r := c.post(path, nil)
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="confirm-page"`)
	r = c.post(path, url.Values{"confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/myvpn" {
		t.Fatalf("sent to %q", loc)
	}
	expectAPI(t, a.api("GET", "/api/v1/client/session", laptop, nil), http.StatusUnauthorized, "invalid_token")
	expectAPI(t, a.api("GET", "/api/v1/client/session", phone, nil), http.StatusOK, "")
	home = c.get("/myvpn")
	expectBody(t, home, "is signed out")
	expectBody(t, home, "signed out by the user")
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE sub_type = ? AND actor_type = ? AND device_id = ?",
		models.SubDeviceSignedOut, string(models.ActorUser), laptopID); n != 1 {
		t.Fatalf("%d Signed Out events by the user", n)
	}

	// Only their own: another user's device is 404 and keeps working.
	expectStatus(t, c.post(fmt.Sprintf("/myvpn/devices/%d/sign-out", otherID), url.Values{"confirm": {"1"}}), http.StatusNotFound)
	if got := a.reload(other); got.Devices != 1 {
		t.Fatal("a portal user signed out someone else's device")
	}
	// Signed out of the portal, the action sends to the portal's sign-in.
	anon := a.client()
	anon.get("/myvpn/login")
	expectPortalLogin(t, anon.post(path, url.Values{"confirm": {"1"}}))
}
