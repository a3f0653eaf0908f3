package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/devices"
)

// Reset password and Disable sign out every device of the users; enabling a user
// again does not bring a device back.
func TestResetAndDisableSignOutDevices(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	u, v := a.sdpUser("acme", "grace@example.com"), a.sdpUser("acme", "ada@example.com")
	tu, _ := a.register(a.insertCode(u, time.Hour), "laptop")
	tv, _ := a.register(a.insertCode(v, time.Hour), "laptop")
	c := a.client()
	c.signIn("boss@example.com")
	c.get("/access/users")
	act := func(action string, id int64) {
		t.Helper()
		expectStatus(t, c.post("/access/users/actions", url.Values{"action": {action}, "ids": {fmt.Sprint(id)}, "confirm": {"1"}}), http.StatusSeeOther)
	}
	act("disable", u.ID)
	act("enable", u.ID)
	expectAPI(t, a.api("GET", "/api/v1/client/session", tu, nil), http.StatusUnauthorized, "invalid_token")
	act("reset_password", v.ID)
	expectAPI(t, a.api("GET", "/api/v1/client/session", tv, nil), http.StatusUnauthorized, "invalid_token")
	if a.reload(u).Devices != 0 || a.reload(v).Devices != 0 {
		t.Fatal("device counters not lowered")
	}
	if a.clientEvents(models.EventDevice, models.SubDeviceSignedOut, devices.ReasonUserDisabled) != 1 ||
		a.clientEvents(models.EventDevice, models.SubDeviceSignedOut, devices.ReasonPasswordReset) != 1 {
		t.Fatal("no Signed Out event per device")
	}
}
