package handlers_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

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
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		results = map[string]int{}
	)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := a.apiCall("POST", "/api/v1/client/register", "", registerBody(code, fmt.Sprintf("device %d", i)))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				results[err.Error()]++
				return
			}
			results[fmt.Sprintf("%d %s", r.status, r.str("error"))]++
		}()
	}
	wg.Wait()
	if results["403 mfa_configured"] != clients {
		t.Fatalf("answers %v, want %d × 403 mfa_configured", results, clients)
	}
	if used, _, _ := a.codeRow(code); used {
		t.Fatal("the code was used up")
	}
}
