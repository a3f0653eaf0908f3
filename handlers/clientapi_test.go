package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"onramp/models"
	"onramp/models/codes"
	"onramp/models/devices"
	"onramp/models/store"
)

// The VPN client API's HTTP tests (docs/client-api.md). Codes are inserted straight into the database, so
// that these tests do not depend on how codes are generated.

// codeRow reads a code's state back.
func (a *testApp) codeRow(code string) (used, wiped bool, deviceID *int64) {
	a.t.Helper()
	n, err := codes.Normalize(code)
	if err != nil {
		a.t.Fatal(err)
	}
	c, err := a.store.CodeByLookup(context.Background(), a.sealer.Lookup(n))
	if err != nil {
		a.t.Fatal(err)
	}
	return c.UsedAt != nil, c.Encrypted == "", c.DeviceID
}

func (r apiResult) str(k string) string { s, _ := r.body[k].(string); return s }

var apiHTTP = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func TestClientRegister(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	u := a.sdpUser("acme", "grace@example.com")
	code := a.insertCode(u, 48*time.Hour)

	// Typed the way people type: lower case, spaces instead of hyphens.
	typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
	r := a.api("POST", "/api/v1/client/register", "", registerBody(typed, "Grace's laptop"))
	expectAPI(t, r, http.StatusCreated, "")
	token := r.str("device_token")
	user, _ := r.body["user"].(map[string]any)
	if len(token) < 43 || r.body["device_id"] == nil || r.str("account") != "acme" || user["email"] != "grace@example.com" ||
		user["first_name"] != "Grace" || user["last_name"] != "Hopper" {
		t.Fatalf("answer: %s", r.raw)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Fatal("a device token may be cached")
	}
	used, wiped, deviceID := a.codeRow(code)
	if !used || !wiped || deviceID == nil || float64(*deviceID) != r.body["device_id"] {
		t.Fatalf("code after redemption: used %v wiped %v device %v", used, wiped, deviceID)
	}
	if got := a.reload(u); got.ActiveCodes != 0 || got.Devices != 1 {
		t.Fatalf("counters: %d active codes, %d devices", got.ActiveCodes, got.Devices)
	}
	if a.portalEvents(models.EventCode, models.SubCodeUsed) != 1 || a.clientEvents(models.EventDevice, models.SubDeviceRegistered, "registration code") != 1 {
		t.Fatal("no Used and Registered events")
	}
	// The token is stored only as a hash.
	var stored string
	if err := a.store.SQLDB().QueryRow("SELECT token_hash FROM devices").Scan(&stored); err != nil || stored == token || len(stored) != 64 {
		t.Fatalf("token stored as %q (%v)", stored, err)
	}
	assertNoSecretInEvents(t, a, token, code, strings.ReplaceAll(code, "-", ""))
}

// registerAtOnce fires n redemptions of one code at the same moment and counts the answers
// as "<status> <error code>" ("201 " for a success; a request that got no answer counts under
// its error).
func (a *testApp) registerAtOnce(code string, n int) map[string]int {
	a.t.Helper()
	apps := make([]*testApp, n)
	for i := range apps {
		apps[i] = a
	}
	return registerAcross(a.t, code, apps)
}

// registerAcross redeems code once on each of apps (instances, or one app many times), all at
// once, and counts the answers ("201 ", "410 code_used").
func registerAcross(t testing.TB, code string, apps []*testApp) map[string]int {
	t.Helper()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		results = map[string]int{}
	)
	start := make(chan struct{})
	for i, app := range apps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := app.apiCall("POST", "/api/v1/client/register", "", registerBody(code, fmt.Sprintf("device %d", i)))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				results[err.Error()]++
				return
			}
			results[fmt.Sprintf("%d %s", r.status, r.str("error"))]++
		}()
	}
	close(start)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the redemptions did not finish in 2 minutes")
	}
	return results
}

// TestClientRegisterConcurrently: of 200 simultaneous redemptions of one code exactly one
// registers a device; every other one is told the code is used.
func TestClientRegisterConcurrently(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	// One address hammers one code here: the failure limits would answer 429 instead of 410.
	a.Devices.WithLimits(devices.Limits{IPFailBurst: 100000, IPFailEvery: time.Second, FloodBurst: 100000, FloodEvery: time.Second})
	u := a.sdpUser("acme", "grace@example.com")
	const clients, rounds = 200, 4
	for round := 0; round < rounds; round++ {
		code := a.insertCode(u, time.Hour)
		results := a.registerAtOnce(code, clients)
		if results["201 "] != 1 || results["410 code_used"] != clients-1 {
			t.Fatalf("round %d: %v", round, results)
		}
		used, _, deviceID := a.codeRow(code)
		if !used || deviceID == nil {
			t.Fatalf("round %d: the code is not marked used by a device", round)
		}
	}
	if n := a.countSQL("SELECT COUNT(*) FROM devices"); n != rounds {
		t.Fatalf("%d devices, want %d", n, rounds)
	}
	if got := a.reload(u); got.Devices != rounds || got.ActiveCodes != 0 {
		t.Fatalf("counters: %d devices, %d active codes", got.Devices, got.ActiveCodes)
	}
	if n := a.clientEvents(models.EventClient, models.SubClientCodeRejected, "code used"); n != rounds*(clients-1) {
		t.Fatalf("%d Code Rejected events, want %d", n, rounds*(clients-1))
	}
	if n := a.portalEvents(models.EventCode, models.SubCodeUsed); n != rounds {
		t.Fatalf("%d Used events", n)
	}
}

// TestClientRegisterRefusals: each way a code can fail has its status, error code and event.
func TestClientRegisterRefusals(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	u := a.sdpUser("acme", "grace@example.com")
	reg := func(code string) apiResult {
		t.Helper()
		return a.api("POST", "/api/v1/client/register", "", registerBody(code, "laptop"))
	}
	rejected := func(reason string, want int) {
		t.Helper()
		if n := a.clientEvents(models.EventClient, models.SubClientCodeRejected, `"reason":"`+reason+`"`); n != want {
			t.Fatalf("%d Code Rejected events for %q, want %d", n, reason, want)
		}
	}

	// Malformed (a zero is not in the alphabet) and unknown: 401, and no account to tell.
	expectAPI(t, reg("ABCD-EFGH-JKMN-PQR0"), http.StatusUnauthorized, "invalid_code")
	rejected("malformed code", 1)
	expectAPI(t, reg(codes.Format(codes.New())), http.StatusUnauthorized, "invalid_code")
	rejected("unknown code", 1)

	expired := a.insertCode(u, -time.Minute)
	expectAPI(t, reg(expired), http.StatusGone, "code_expired")
	rejected("code expired", 1)

	revoked := a.insertCode(u, time.Hour)
	a.execSQL("UPDATE registration_codes SET revoked_at = ?, encrypted = '' WHERE lookup_hash = ?", a.clock(), a.lookup(revoked))
	expectAPI(t, reg(revoked), http.StatusGone, "code_revoked")
	rejected("code revoked", 1)

	used := a.insertCode(u, time.Hour)
	token, _ := a.register(used, "first")
	expectAPI(t, reg(used), http.StatusGone, "code_used")
	rejected("code used", 1)

	// A disabled user's code is refused and not consumed: enabled again, it works.
	kept := a.insertCode(u, time.Hour)
	a.setStatus(u, models.UserDisabled)
	expectAPI(t, reg(kept), http.StatusForbidden, "user_disabled")
	rejected("user disabled", 1)
	if isUsed, _, _ := a.codeRow(kept); isUsed {
		t.Fatal("a disabled user's code was consumed")
	}
	// Their device's credential stops working too.
	expectAPI(t, a.api("GET", "/api/v1/client/session", token, nil), http.StatusUnauthorized, "invalid_token")
	a.setStatus(u, models.UserEnabled)
	expectAPI(t, a.api("GET", "/api/v1/client/session", token, nil), http.StatusOK, "")
	expectAPI(t, reg(kept), http.StatusCreated, "")

	// The events of a known code name the user; those of an unknown one have no account.
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE sub_type = ? AND account_id IS NULL", models.SubClientCodeRejected); n != 2 {
		t.Fatalf("%d rejections without an account, want 2 (malformed, unknown)", n)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE sub_type = ? AND sdp_user_id = ?", models.SubClientCodeRejected, u.ID); n != 4 {
		t.Fatalf("%d rejections name the user, want 4", n)
	}

	// Requests that are not a redemption at all: 400, not counted as failures.
	for name, body := range map[string]any{
		"not JSON":         "code=ABCD",
		"two objects":      `{"code":"x","device_name":"y"} {}`,
		"wrong type":       `{"code": 5, "device_name": "laptop"}`,
		"no code":          map[string]string{"device_name": "laptop"},
		"no device name":   map[string]string{"code": kept},
		"control in name":  map[string]string{"code": kept, "device_name": "lap\x00top"},
		"name too long":    map[string]string{"code": kept, "device_name": strings.Repeat("x", 101)},
		"body over 16 KiB": map[string]string{"code": kept, "device_name": "laptop", "platform": strings.Repeat("x", 17<<10)},
	} {
		r := a.api("POST", "/api/v1/client/register", "", body)
		if r.status != http.StatusBadRequest || r.str("error") != "invalid_request" || r.str("message") == "" {
			t.Errorf("%s: %d %s", name, r.status, r.raw)
		}
	}
	// Unknown paths and methods of the API answer JSON too, never a page or a redirect.
	expectAPI(t, a.api("GET", "/api/v1/client/register", "", nil), http.StatusMethodNotAllowed, "method_not_allowed")
	expectAPI(t, a.api("GET", "/api/v1/client/nothing", "", nil), http.StatusNotFound, "not_found")
	assertNoSecretInEvents(t, a, token, strings.ReplaceAll(kept, "-", ""), strings.ReplaceAll(used, "-", ""))
}

// otherToken is a token of the same shape that differs from token in its first character.
func otherToken(token string) string {
	if token[0] == 'x' {
		return "y" + token[1:]
	}
	return "x" + token[1:]
}

func (a *testApp) lookup(code string) string {
	a.t.Helper()
	n, err := codes.Normalize(code)
	if err != nil {
		a.t.Fatal(err)
	}
	return a.sealer.Lookup(n)
}

func TestClientSession(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	u := a.sdpUser("acme", "grace@example.com")
	token, id := a.register(a.insertCode(u, time.Hour), "laptop")

	r := a.api("GET", "/api/v1/client/session", token, nil)
	expectAPI(t, r, http.StatusOK, "")
	user, _ := r.body["user"].(map[string]any)
	if r.body["device_id"] != float64(id) || r.str("status") != "active" || user["email"] != "grace@example.com" || user["first_name"] != "Grace" {
		t.Fatalf("session: %s", r.raw)
	}
	for name, tok := range map[string]string{"no token": "", "unknown token": otherToken(token)} {
		r := a.api("GET", "/api/v1/client/session", tok, nil)
		expectAPI(t, r, http.StatusUnauthorized, "invalid_token")
		if !strings.Contains(r.header.Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("%s: WWW-Authenticate %q", name, r.header.Get("WWW-Authenticate"))
		}
	}

	// Last seen is written at most once a minute.
	seen := func() time.Time {
		d, err := a.store.Device(context.Background(), u.AccountID, u.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		return d.LastSeenAt
	}
	first := seen()
	a.advance(30 * time.Second)
	a.api("GET", "/api/v1/client/session", token, nil)
	if !seen().Equal(first) {
		t.Fatal("last seen written twice in a minute")
	}
	a.advance(31 * time.Second)
	a.api("GET", "/api/v1/client/session", token, nil)
	if got := seen(); !got.After(first) {
		t.Fatalf("last seen not updated after a minute: %v", got)
	}

	// An admin signs the device out on the user page: the credential is refused at once.
	a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	c := a.client()
	c.signIn("boss@example.com")
	c.get(fmt.Sprintf("/access/users/%d", u.ID))
	expectStatus(t, c.post(fmt.Sprintf("/access/users/%d/devices/%d/sign-out", u.ID, id), map[string][]string{"confirm": {"1"}}), http.StatusSeeOther)
	expectAPI(t, a.api("GET", "/api/v1/client/session", token, nil), http.StatusUnauthorized, "invalid_token")
}

// TestClientResetAndDisableEndDevices drives devices.RevokeForUsers the way Reset password and
// Disable call it, inside their transaction: every device of the users is signed out at once.
func TestClientResetAndDisableEndDevices(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	admin := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	grace, ada := a.sdpUser("acme", "grace@example.com"), a.sdpUser("acme", "ada@example.com")
	other := a.sdpUser("acme", "hal@example.com")
	g1, _ := a.register(a.insertCode(grace, time.Hour), "laptop")
	g2, _ := a.register(a.insertCode(grace, time.Hour), "phone")
	a1, _ := a.register(a.insertCode(ada, time.Hour), "laptop")
	h1, _ := a.register(a.insertCode(other, time.Hour), "laptop")

	ctx := context.Background()
	who := models.AdminActor(admin, "192.0.2.1")
	err := a.store.Tx(ctx, func(tx *store.Store) error {
		return a.Devices.RevokeForUsers(ctx, tx, admin.AccountID, []int64{grace.ID, ada.ID}, devices.ReasonPasswordReset, who)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{g1, g2, a1} {
		expectAPI(t, a.api("GET", "/api/v1/client/session", tok, nil), http.StatusUnauthorized, "invalid_token")
	}
	expectAPI(t, a.api("GET", "/api/v1/client/session", h1, nil), http.StatusOK, "")
	if a.reload(grace).Devices != 0 || a.reload(ada).Devices != 0 || a.reload(other).Devices != 1 {
		t.Fatal("device counters not lowered")
	}
	if n := a.clientEvents(models.EventDevice, models.SubDeviceSignedOut, devices.ReasonPasswordReset); n != 3 {
		t.Fatalf("%d Signed Out events, want one per device", n)
	}
	// Another account's admin reaches nothing.
	stranger := a.createAdmin("globex", "eve@example.com", models.RoleAdmin)
	err = a.store.Tx(ctx, func(tx *store.Store) error {
		return a.Devices.RevokeForUsers(ctx, tx, stranger.AccountID, []int64{other.ID}, devices.ReasonUserDisabled, models.AdminActor(stranger, ""))
	})
	if err != nil {
		t.Fatal(err)
	}
	expectAPI(t, a.api("GET", "/api/v1/client/session", h1, nil), http.StatusOK, "")
}

func TestClientLogin(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.activeSDPUser("acme", "grace@example.com")
	login := func(email, pw, code string) apiResult {
		t.Helper()
		return a.api("POST", "/api/v1/client/login", "", loginBody(email, pw, code))
	}

	r := login("Grace@Example.com", testPassword, "")
	expectAPI(t, r, http.StatusCreated, "")
	if r.str("account") != "acme" || len(r.str("device_token")) < 43 {
		t.Fatalf("login: %s", r.raw)
	}
	expectAPI(t, a.api("GET", "/api/v1/client/session", r.str("device_token"), nil), http.StatusOK, "")
	if a.clientEvents(models.EventDevice, models.SubDeviceRegistered, `"via":"password"`) != 1 {
		t.Fatal("no Registered event")
	}

	expectAPI(t, login("grace@example.com", "wrong password here", ""), http.StatusUnauthorized, "invalid_credentials")
	expectAPI(t, login("nobody@example.com", testPassword, ""), http.StatusUnauthorized, "invalid_credentials")
	r = a.api("POST", "/api/v1/client/login", "", map[string]string{"account": "globex", "email": "grace@example.com", "password": testPassword, "device_name": "x"})
	expectAPI(t, r, http.StatusUnauthorized, "invalid_credentials")
	expectAPI(t, a.api("POST", "/api/v1/client/login", "", map[string]string{"account": "acme", "email": "grace@example.com", "device_name": "x"}),
		http.StatusBadRequest, "invalid_request")

	// Invited but not activated yet: without a password of their own, the answer is the same as
	// for someone who does not exist (which users were invited is not told).
	a.sdpUser("acme", "new@example.com")
	expectAPI(t, login("new@example.com", testPassword, ""), http.StatusUnauthorized, "invalid_credentials")

	// Disabled: told so only after a right password.
	hal := a.activeSDPUser("acme", "hal@example.com")
	a.setStatus(hal, models.UserDisabled)
	expectAPI(t, login("hal@example.com", "wrong password here", ""), http.StatusUnauthorized, "invalid_credentials")
	expectAPI(t, login("hal@example.com", testPassword, ""), http.StatusForbidden, "user_disabled")

	if n := a.portalEvents(models.EventClient, models.SubClientSignInFailed); n != 6 {
		t.Fatalf("%d client Sign-in Failed events, want 6", n)
	}
	assertNoSecretInEvents(t, a, testPassword, "wrong password here", r.str("device_token"))
}

func TestClientLoginWithMFA(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.activeSDPUser("acme", "grace@example.com")
	c := a.client()
	c.portalSignIn("acme", "grace@example.com", testPassword, "")
	key := enrollTOTP(t, a, c)
	a.advance(31 * time.Second) // the enrollment's code is spent: the next step's is fresh

	expectAPI(t, a.api("POST", "/api/v1/client/login", "", loginBody("grace@example.com", testPassword, "")), http.StatusForbidden, "mfa_required")
	code, err := totp.GenerateCode(key, a.clock())
	if err != nil {
		t.Fatal(err)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	expectAPI(t, a.api("POST", "/api/v1/client/login", "", loginBody("grace@example.com", testPassword, wrong)), http.StatusForbidden, "mfa_required")
	r := a.api("POST", "/api/v1/client/login", "", loginBody("grace@example.com", testPassword, code))
	expectAPI(t, r, http.StatusCreated, "")
	if a.clientEvents(models.EventDevice, models.SubDeviceRegistered, "authenticator code") != 1 {
		t.Fatal("the Registered event does not say the code was checked")
	}
	// A code works once.
	expectAPI(t, a.api("POST", "/api/v1/client/login", "", loginBody("grace@example.com", testPassword, code)), http.StatusForbidden, "mfa_required")
	assertNoSecretInEvents(t, a, code, testPassword, r.str("device_token"))
}

func TestClientRateLimits(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	u := a.sdpUser("acme", "grace@example.com")
	good := a.insertCode(u, time.Hour)
	reg := func(code string) apiResult {
		t.Helper()
		return a.api("POST", "/api/v1/client/register", "", registerBody(code, "laptop"))
	}
	for i := 0; i < devices.DefaultLimits.IPFailBurst; i++ {
		expectAPI(t, reg(codes.Format(codes.New())), http.StatusUnauthorized, "invalid_code")
	}
	// Past its budget a client waits for its next turn (the harness moves the clock by the
	// wait): a good code from an office behind one address still goes through, at the
	// budget's pace.
	before := a.clock()
	expectAPI(t, reg(good), http.StatusCreated, "")
	if waited := a.clock().Sub(before); waited != devices.DefaultLimits.IPFailEvery {
		t.Fatalf("waited %v for the turn, want %v", waited, devices.DefaultLimits.IPFailEvery)
	}

	// A turn further away than one refill is refused: two redemptions past the budget at once
	// (the waiting one is held in its wait here) get one turn and one 429.
	for i := 0; i < devices.DefaultLimits.IPFailBurst; i++ {
		expectAPI(t, reg(codes.Format(codes.New())), http.StatusUnauthorized, "invalid_code")
	}
	waiting, release := make(chan struct{}), make(chan struct{})
	a.Devices.WithSleep(func(context.Context, time.Duration) error { close(waiting); <-release; return nil })
	second := a.insertCode(u, time.Hour)
	done := make(chan apiResult)
	go func() { done <- reg(second) }()
	<-waiting
	r := reg(codes.Format(codes.New()))
	expectAPI(t, r, http.StatusTooManyRequests, "rate_limited")
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 31 || s > 60 {
		t.Fatalf("Retry-After %q, want the turn after the waiting one", r.header.Get("Retry-After"))
	}
	close(release)
	expectAPI(t, <-done, http.StatusCreated, "")

	// Password sign-in has the portal's limits: 5 failures per account and email.
	a.activeSDPUser("acme", "ada@example.com")
	for i := 0; i < 5; i++ {
		expectAPI(t, a.api("POST", "/api/v1/client/login", "", loginBody("ada@example.com", "wrong password here", "")), http.StatusUnauthorized, "invalid_credentials")
	}
	r = a.api("POST", "/api/v1/client/login", "", loginBody("ada@example.com", testPassword, ""))
	expectAPI(t, r, http.StatusTooManyRequests, "rate_limited")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
}

// TestClientOutcomesWriteEvents: every outcome of the client API writes an event, and
// outcomes that repeat cheaply write one per run: refusals without a credential once a minute
// per address, call and kind, a device's session checks once an hour per device and kind.
func TestClientOutcomesWriteEvents(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	u := a.sdpUser("acme", "grace@example.com")
	code := a.insertCode(u, time.Hour)
	count := func(typ models.EventType, sub, details string) int {
		t.Helper()
		return a.clientEvents(typ, sub, details)
	}
	expectCount := func(what string, got, want int) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: %d events, want %d", what, got, want)
		}
	}

	// Unreadable requests: 400 and a Request Refused naming the call and the fields, never a value.
	for range 3 {
		expectAPI(t, a.api("POST", "/api/v1/client/register", "", map[string]string{"code": code}), http.StatusBadRequest, "invalid_request")
	}
	expectCount("bad register", count(models.EventClient, models.SubClientRequestRefused, `"reason":"wrong or missing device_name"`), 1)
	expectAPI(t, a.api("POST", "/api/v1/client/login", "", "not json"), http.StatusBadRequest, "invalid_request")
	expectCount("bad login", count(models.EventClient, models.SubClientRequestRefused, `"call":"login"`), 1)
	a.advance(devices.RefusalEventEvery)
	expectAPI(t, a.api("POST", "/api/v1/client/register", "", map[string]string{"code": code}), http.StatusBadRequest, "invalid_request")
	expectCount("bad register a minute later", count(models.EventClient, models.SubClientRequestRefused, `"call":"register"`), 2)

	// Past the rate limit: one Rate Limited event for the run of 429s. A client past its budget
	// waits for its next turn; the turns after it are refused (here the waiting redemption is
	// held in its wait while five more arrive).
	for range devices.DefaultLimits.IPFailBurst {
		expectAPI(t, a.api("POST", "/api/v1/client/register", "", registerBody(codes.Format(codes.New()), "laptop")), http.StatusUnauthorized, "invalid_code")
	}
	waiting, release := make(chan struct{}), make(chan struct{})
	a.Devices.WithSleep(func(context.Context, time.Duration) error { close(waiting); <-release; return nil })
	done := make(chan apiResult)
	go func() {
		done <- a.api("POST", "/api/v1/client/register", "", registerBody(codes.Format(codes.New()), "laptop"))
	}()
	<-waiting
	for range 5 {
		expectAPI(t, a.api("POST", "/api/v1/client/register", "", registerBody(code, "laptop")), http.StatusTooManyRequests, "rate_limited")
	}
	close(release)
	expectAPI(t, <-done, http.StatusUnauthorized, "invalid_code")
	expectCount("rate limited", count(models.EventClient, models.SubClientRateLimited, `"call":"register"`), 1)
	a.advance(2 * devices.DefaultLimits.IPFailEvery)

	// Session checks of a good device: one Session Checked an hour.
	token, _ := a.register(code, "laptop")
	for range 3 {
		expectAPI(t, a.api("GET", "/api/v1/client/session", token, nil), http.StatusOK, "")
	}
	expectCount("checked", count(models.EventDevice, models.SubDeviceSessionChecked, `"device":"laptop"`), 1)
	a.advance(devices.SessionEventEvery)
	expectAPI(t, a.api("GET", "/api/v1/client/session", token, nil), http.StatusOK, "")
	expectCount("checked an hour later", count(models.EventDevice, models.SubDeviceSessionChecked, `"device":"laptop"`), 2)
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE sub_type = ? AND sdp_user_id = ? AND device_id IS NOT NULL",
		models.SubDeviceSessionChecked, u.ID); n != 2 {
		t.Fatalf("%d Session Checked events name the user and device, want 2", n)
	}

	// Disabled: the device's checks are refused, with one Session Refused saying why.
	a.setStatus(u, models.UserDisabled)
	for range 3 {
		expectAPI(t, a.api("GET", "/api/v1/client/session", token, nil), http.StatusUnauthorized, "invalid_token")
	}
	expectCount("refused", count(models.EventDevice, models.SubDeviceSessionRefused, `"reason":"user disabled"`), 1)

	// Tokens of no device: Token Rejected, without an account.
	for range 3 {
		expectAPI(t, a.api("GET", "/api/v1/client/session", otherToken(token), nil), http.StatusUnauthorized, "invalid_token")
	}
	expectAPI(t, a.api("GET", "/api/v1/client/session", "", nil), http.StatusUnauthorized, "invalid_token")
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE sub_type = ? AND account_id IS NULL", models.SubClientTokenRejected); n != 1 {
		t.Fatalf("%d Token Rejected events, want 1 for the run", n)
	}
	assertNoSecretInEvents(t, a, token, strings.ReplaceAll(code, "-", ""), code)
}
