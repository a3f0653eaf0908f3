package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/sso/ssotest"
)

// ssoAdmin is the app's admin ada@example.com of acme.
func (a *ssoApp) ssoAdmin(t *testing.T) *models.Admin {
	t.Helper()
	adm, err := a.store.AdminByEmail(context.Background(), a.acct.ID, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	return adm
}

// withGroups is newSSOApp's extra form: the provider's groups claim.
var withGroups = url.Values{"groups_claim": {ssotest.GroupsClaim}}

// local is the path and query of a URL of the app's public address (http://onramp.test), to
// open on the test server.
func local(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil || p.Host != "onramp.test" {
		t.Fatalf("not a URL of the app: %q", u)
	}
	return p.RequestURI()
}

// signInAt plays the browser at the provider: from the app's redirect to it (r) to the
// provider's redirect back, which it returns (path and query) without opening it.
func (a *ssoApp) signInAt(t *testing.T, r response, u ssotest.User) string {
	t.Helper()
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), a.op.Issuer+"/") {
		t.Fatalf("not sent to the provider: %d %q\n%s", r.StatusCode, r.Header.Get("Location"), snippet(r.body))
	}
	back, err := a.op.SignIn(http.DefaultClient, r.Header.Get("Location"), u)
	if err != nil {
		t.Fatal(err)
	}
	return local(t, back.String())
}

// ssoStart begins a client sign-in for acme and returns the link's path and the poll token.
func (a *ssoApp) ssoStart(t *testing.T, device string) (link, poll string) {
	t.Helper()
	r := a.api("POST", "/api/v1/client/sso/start", "", map[string]string{"account": "acme", "device_name": device, "platform": "linux"})
	expectAPI(t, r, http.StatusOK, "")
	if r.body["interval"] != float64(5) || r.body["expires_in"] != float64(600) || r.str("poll_token") == "" {
		t.Fatalf("start: %s", r.raw)
	}
	link = local(t, r.str("login_url"))
	if !strings.HasPrefix(link, "/sso/client/") || strings.Contains(link, r.str("poll_token")) {
		t.Fatalf("login_url %q", r.str("login_url"))
	}
	return link, r.str("poll_token")
}

func (a *ssoApp) poll(token string) apiResult {
	a.t.Helper()
	return a.api("POST", "/api/v1/client/sso/poll", "", map[string]string{"poll_token": token})
}

// The device flow: pending until the browser that opened the link first signs in; polling
// too fast slows the client down; another browser can neither take the link over nor complete
// the sign-in; the poll token then gives the device once.
func TestClientSSODeviceFlow(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, nil)
	grace := a.sdpUser("acme", "grace@example.com")
	u := a.op.AddUser(ssotest.User{Email: "grace@example.com", EmailVerified: true})
	link, poll := a.ssoStart(t, "Grace's laptop")

	expectAPI(t, a.poll(poll), http.StatusPreconditionRequired, "authorization_pending")
	expectAPI(t, a.poll(poll), http.StatusPreconditionRequired, "slow_down")
	a.advance(5 * time.Second) // the interval is 10 seconds now
	expectAPI(t, a.poll(poll), http.StatusPreconditionRequired, "slow_down")
	a.advance(15 * time.Second) // and 15 seconds now
	expectAPI(t, a.poll(poll), http.StatusPreconditionRequired, "authorization_pending")

	mine, other := a.client(), a.client()
	page := mine.get(link)
	expectStatus(t, page, http.StatusOK)
	expectBody(t, page, "Grace&#39;s laptop")
	toProvider := mine.post(link, nil)
	// Another browser with the link: it may not take the sign-in over.
	r := other.get(link)
	expectStatus(t, r, http.StatusConflict)
	expectBody(t, r, `data-testid="device-sso-elsewhere"`)
	other.get("/myvpn/login") // a form token: the page of a taken link has no form
	expectStatus(t, other.post(link, nil), http.StatusConflict)
	if n := a.clientEvents(models.EventClient, models.SubClientSignInFailed, "sign-in link opened in another browser"); n != 1 {
		t.Fatalf("%d events of the other browser's claim", n)
	}
	// Nor complete it with this browser's provider answer (the state is bound to this browser,
	// and is used up by the attempt).
	back := a.signInAt(t, toProvider, u)
	expectStatus(t, other.get(back), http.StatusForbidden)
	a.advance(15 * time.Second)
	expectAPI(t, a.poll(poll), http.StatusPreconditionRequired, "authorization_pending")

	// The browser that opened the link tries again and signs in.
	expectStatus(t, mine.get(link), http.StatusOK)
	done := mine.get(a.signInAt(t, mine.post(link, nil), u))
	expectStatus(t, done, http.StatusOK)
	expectBody(t, done, `data-testid="device-sso-done"`)
	expectStatus(t, mine.get(link), http.StatusGone) // finished

	a.advance(15 * time.Second)
	r2 := a.poll(poll)
	expectAPI(t, r2, http.StatusCreated, "")
	user, _ := r2.body["user"].(map[string]any)
	if r2.str("device_token") == "" || r2.body["device_id"] == nil || user["email"] != "grace@example.com" || r2.str("account") != "acme" {
		t.Fatalf("registration: %s", r2.raw)
	}
	expectAPI(t, a.api("GET", "/api/v1/client/session", r2.str("device_token"), nil), http.StatusOK, "")
	if n := a.clientEvents(models.EventDevice, models.SubDeviceRegistered, `"via":"sso"`); n != 1 {
		t.Fatalf("%d Device Registered events via sso", n)
	}
	if d := a.countSQL("SELECT COUNT(*) FROM devices WHERE sdp_user_id = ? AND registered_via = 'sso'", grace.ID); d != 1 {
		t.Fatalf("%d devices via sso", d)
	}
	// The poll token works once.
	a.advance(15 * time.Second)
	expectAPI(t, a.poll(poll), http.StatusGone, "poll_token_used")
	expectAPI(t, a.poll("not-a-poll-token"), http.StatusUnauthorized, "invalid_poll_token")
}

// A sign-in not completed within 10 minutes expires: the poll says so, the link is gone.
func TestClientSSOExpires(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, nil)
	link, poll := a.ssoStart(t, "laptop")
	a.advance(10*time.Minute + time.Second)
	expectAPI(t, a.poll(poll), http.StatusGone, "expired_token")
	expectStatus(t, a.client().get(link), http.StatusGone)
}

// The same people as on MyVPN: someone Onramp does not know, or a disabled user, is refused
// after the provider's success, in the browser and at the next poll, with an event.
func TestClientSSORefusesUnknownAndDisabledUsers(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, nil)
	a.setStatus(a.sdpUser("acme", "dis@example.com"), models.UserDisabled)
	for email, reason := range map[string]string{"nobody@example.com": "unknown user", "dis@example.com": "disabled user"} {
		link, poll := a.ssoStart(t, "laptop")
		b := a.client()
		b.get(link)
		r := b.get(a.signInAt(t, b.post(link, nil), a.op.AddUser(ssotest.User{Email: email, EmailVerified: true})))
		expectStatus(t, r, http.StatusForbidden)
		expectAPI(t, a.poll(poll), http.StatusForbidden, "access_denied")
		if n := a.clientEvents(models.EventSSO, models.SubSSORefused, reason); n != 1 {
			t.Fatalf("%s: %d events", reason, n)
		}
	}
	if n := a.countSQL("SELECT COUNT(*) FROM devices"); n != 0 {
		t.Fatalf("%d devices", n)
	}
}

// An account without single sign-on (or none at all) is refused the same way.
func TestClientSSOStartRefusals(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, nil)
	a.createAdmin("globex", "gus@example.com", models.RoleAdmin)
	for _, account := range []string{"globex", "no-such-account"} {
		r := a.api("POST", "/api/v1/client/sso/start", "", map[string]string{"account": account, "device_name": "laptop"})
		expectAPI(t, r, http.StatusForbidden, "sso_not_enabled")
	}
	expectAPI(t, a.api("POST", "/api/v1/client/sso/start", "", map[string]string{"account": "acme"}), http.StatusBadRequest, "invalid_request")
	expectAPI(t, a.api("POST", "/api/v1/client/sso/poll", "", map[string]string{}), http.StatusBadRequest, "invalid_request")
}

// Starts and polls are limited per client address: past the budget, 429 with Retry-After (and
// one Rate Limited event a minute), and the budget refills with time.
func TestClientSSORateLimits(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, nil)
	start := map[string]string{"account": "acme", "device_name": "laptop"}
	for range 20 {
		expectAPI(t, a.api("POST", "/api/v1/client/sso/start", "", start), http.StatusOK, "")
	}
	r := a.api("POST", "/api/v1/client/sso/start", "", start)
	expectAPI(t, r, http.StatusTooManyRequests, "rate_limited")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	a.advance(30 * time.Second)
	expectAPI(t, a.api("POST", "/api/v1/client/sso/start", "", start), http.StatusOK, "")
	for range 120 {
		expectAPI(t, a.poll("unknown"), http.StatusUnauthorized, "invalid_poll_token")
	}
	expectAPI(t, a.poll("unknown"), http.StatusTooManyRequests, "rate_limited")
	if n := a.clientEvents(models.EventClient, models.SubClientRateLimited, "sso"); n != 2 {
		t.Fatalf("%d Rate Limited events", n)
	}
}
