package devices

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/codes"
	"onramp/models/password"
	"onramp/models/portal"
	"onramp/models/secret"
	"onramp/models/sessions"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

func TestDeviceFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, platform     string
		wantName, wantPlat string
		bad                string // the field refused, "" when accepted
	}{
		{"  Grace's laptop ", " macos ", "Grace's laptop", "macos", ""},
		{"Ноутбук 💻", "", "Ноутбук 💻", "", ""},
		{strings.Repeat("x", maxNameLen), strings.Repeat("p", maxPlatformLen), strings.Repeat("x", maxNameLen), strings.Repeat("p", maxPlatformLen), ""},
		{"", "linux", "", "", "device_name"},
		{"   ", "linux", "", "", "device_name"},
		{strings.Repeat("x", maxNameLen+1), "", "", "", "device_name"},
		{"lap\ntop", "", "", "", "device_name"},
		{"lap\x1btop", "", "", "", "device_name"},
		{"bad\xffutf8", "", "", "", "device_name"},
		{"laptop", strings.Repeat("p", maxPlatformLen+1), "", "", "platform"},
		{"laptop", "mac\tos", "", "", "platform"},
	}
	for _, tt := range tests {
		name, plat, err := deviceFields(tt.name, tt.platform)
		var ve *models.ValidationError
		switch {
		case tt.bad == "" && (err != nil || name != tt.wantName || plat != tt.wantPlat):
			t.Errorf("deviceFields(%q, %q) = %q, %q, %v", tt.name, tt.platform, name, plat, err)
		case tt.bad != "" && (!errors.As(err, &ve) || ve.Fields[tt.bad] == ""):
			t.Errorf("deviceFields(%q, %q): %v, want an error on %s", tt.name, tt.platform, err, tt.bad)
		}
	}
}

// TestRevokeForUsersAcrossBatches signs out the devices of more users than one statement
// takes, inside the caller's transaction, and leaves other users' devices alone.
func TestRevokeForUsersAcrossBatches(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := context.Background()
	keys := secret.NewKeys([]byte("devices-test-secret-devices-test-secret"))
	svc := New(s, codes.NewSealer(keys), portal.New(s, password.NewFastHasher(), keys, sessions.Config{}))
	svc.batch = 10 // three statements for the users below
	account := models.NewAccount("acme")
	if err := s.CreateAccount(ctx, account); err != nil {
		t.Fatal(err)
	}
	n := 2*svc.batch + 5
	us := make([]*models.SDPUser, n+1)
	for i := range us {
		us[i] = &models.SDPUser{AccountID: account.ID, FirstName: "U", LastName: fmt.Sprint(i), Email: fmt.Sprintf("u%04d@example.com", i),
			Origin: models.OriginManual, Status: models.UserEnabled, Activation: models.ActivationActive, Devices: 1}
	}
	if err := s.CreateUsers(ctx, us); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	tokens := make([]string, len(us))
	err := s.Tx(ctx, func(tx *store.Store) error {
		for i, u := range us {
			tokens[i] = secret.Token()
			if err := tx.CreateDevice(ctx, newDevice(u, "laptop", "linux", models.ViaCode, tokens[i], now)); err != nil {
				return err
			}
		}
		// The first user has a second device, already signed out: it must stay as it was.
		old := newDevice(us[0], "old phone", "ios", models.ViaPassword, secret.Token(), now)
		old.RevokedAt, old.RevokedReason = &now, ReasonUser
		return tx.CreateDevice(ctx, old)
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = us[i].ID
	}
	who := models.Actor{Type: models.ActorAdmin, Label: "boss@example.com"}
	err = s.Tx(ctx, func(tx *store.Store) error {
		return svc.RevokeForUsers(ctx, tx, account.ID, ids, ReasonUserDisabled, who)
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, tok := range tokens {
		_, err := svc.Session(ctx, tok, "127.0.0.1")
		if i < n && !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("user %d's device still works: %v", i, err)
		}
		if i == n && err != nil {
			t.Fatalf("the last user's device was signed out: %v", err)
		}
	}
	for _, i := range []int{0, svc.batch, n - 1, n} {
		u, err := s.User(ctx, account.ID, us[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 0, false: 1}[i < n]; u.Devices != want {
			t.Fatalf("user %d has %d devices counted, want %d", i, u.Devices, want)
		}
	}
	evs, err := s.RecentEvents(ctx, account.ID, 4*n) // with the Session Refused events of the checks above
	if err != nil {
		t.Fatal(err)
	}
	signedOut := 0
	for _, e := range evs {
		if e.Type == models.EventDevice && e.SubType == models.SubDeviceSignedOut && e.DeviceID != nil && e.SDPUserID != nil &&
			strings.Contains(e.Details, ReasonUserDisabled) {
			signedOut++
		}
	}
	if signedOut != n {
		t.Fatalf("%d Signed Out events, want %d (one per device)", signedOut, n)
	}
	ds, err := s.UserDevices(ctx, account.ID, us[0].ID, 10)
	if err != nil || len(ds) != 2 {
		t.Fatalf("%d devices (%v)", len(ds), err)
	}
	for _, d := range ds {
		if d.Name == "old phone" && d.RevokedReason != ReasonUser {
			t.Fatalf("an already signed-out device was signed out again: %q", d.RevokedReason)
		}
	}
	// Nothing to do is not an error.
	if err := s.Tx(ctx, func(tx *store.Store) error {
		return svc.RevokeForUsers(ctx, tx, account.ID, nil, ReasonPasswordReset, who)
	}); err != nil {
		t.Fatal(err)
	}
}

// redemptionFixture is the service over a fresh database with one enabled user, and a
// redemption budget that never waits for real (a client past its budget gets its turn at once).
type redemptionFixture struct {
	s      *store.Store
	svc    *Service
	sealer *codes.Sealer
	user   *models.SDPUser
}

func newRedemptionFixture(t *testing.T, l Limits) *redemptionFixture {
	t.Helper()
	s := storetest.Open(t)
	keys := secret.NewKeys([]byte("devices-test-secret-devices-test-secret"))
	f := &redemptionFixture{s: s, sealer: codes.NewSealer(keys)}
	f.svc = New(s, f.sealer, portal.New(s, password.NewFastHasher(), keys, sessions.Config{})).WithLimits(l).
		WithSleep(func(context.Context, time.Duration) error { return nil })
	account := models.NewAccount("acme")
	if err := s.CreateAccount(t.Context(), account); err != nil {
		t.Fatal(err)
	}
	f.user = &models.SDPUser{AccountID: account.ID, FirstName: "Grace", LastName: "Hopper", Email: "grace@example.com",
		Origin: models.OriginManual, Status: models.UserEnabled, Activation: models.ActivationNew}
	if err := s.CreateUser(t.Context(), f.user); err != nil {
		t.Fatal(err)
	}
	return f
}

// code gives the user a new active code and returns it.
func (f *redemptionFixture) code(t *testing.T) string {
	t.Helper()
	code := codes.New()
	now := time.Now().UTC()
	c := &models.RegistrationCode{AccountID: f.user.AccountID, SDPUserID: f.user.ID, LookupHash: f.sealer.Lookup(code),
		Encrypted: f.sealer.Seal(f.user.AccountID, code), GeneratedBy: models.GeneratedByAdmin, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := f.s.CreateCodes(t.Context(), []*models.RegistrationCode{c}); err != nil {
		t.Fatal(err)
	}
	return codes.Format(code)
}

func (f *redemptionFixture) redeem(code, ip string) error {
	_, err := f.svc.Register(context.Background(), RegisterInput{Code: code, DeviceName: "laptop"}, ip)
	return err
}

func (f *redemptionFixture) events(t *testing.T, sub string) int {
	t.Helper()
	var n int
	if err := f.s.SQLDB().QueryRow("SELECT COUNT(*) FROM events WHERE sub_type = '" + sub + "'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestIPv6ClientsShareTheirSlash64: fifty addresses of one /64 are one client with one budget
// (before, each address had its own); another /64 has its own.
func TestIPv6ClientsShareTheirSlash64(t *testing.T) {
	t.Parallel()
	f := newRedemptionFixture(t, DefaultLimits)
	var rejected, limited int
	for i := range 50 {
		err := f.redeem(codes.Format(codes.New()), fmt.Sprintf("2001:db8:7:1:%x::%x", i, i+1))
		var rl *models.RateLimitError
		switch {
		case errors.Is(err, ErrInvalidCode):
			rejected++
		case errors.As(err, &rl):
			limited++
		default:
			t.Fatalf("redemption %d: %v", i, err)
		}
	}
	if want := DefaultLimits.IPFailBurst + 1; rejected != want || limited != 50-want {
		t.Fatalf("%d checked and %d refused, want %d checked (the budget and one waiting turn)", rejected, limited, want)
	}
	if err := f.redeem(f.code(t), "2001:db8:7:2::1"); err != nil {
		t.Fatalf("another /64 is held by the first one's budget: %v", err)
	}
}

// TestFloodNeverRefusesAValidCode: junk from many clients, each within its own budget, raises
// the alarm once, and a valid code from yet another client still works (before, a global cap
// refused every redemption of every account for a while).
func TestFloodNeverRefusesAValidCode(t *testing.T) {
	t.Parallel()
	f := newRedemptionFixture(t, Limits{IPFailBurst: 10, IPFailEvery: 30 * time.Second, FloodBurst: 20, FloodEvery: time.Minute / 20})
	for i := range 320 {
		if err := f.redeem(codes.Format(codes.New()), fmt.Sprintf("198.51.%d.%d", i/250, i%250+1)); !errors.Is(err, ErrInvalidCode) {
			t.Fatalf("junk redemption %d: %v, want it checked and refused as invalid", i, err)
		}
	}
	if err := f.redeem(f.code(t), "203.0.113.9"); err != nil {
		t.Fatalf("a valid code during the flood: %v", err)
	}
	if n := f.events(t, models.SubClientCodeFlood); n != 1 {
		t.Fatalf("%d Code Flood events, want 1 (once a minute)", n)
	}
}

// TestRedemptionTakesTurnsWithDisableAndMFA: a redemption and a Disable or an MFA enrollment of
// the same user write the user's row, so they are ordered: while the other change holds the row
// (uncommitted) the redemption waits for it, then sees it, refuses with its reason and leaves
// the code unused, the counters as they were and no device behind.
func TestRedemptionTakesTurnsWithDisableAndMFA(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(tx *store.Store, u *models.SDPUser) error
		undo   func(s *store.Store, u *models.SDPUser) error
		want   error
	}{
		{"disable", func(tx *store.Store, u *models.SDPUser) error {
			return tx.SetUsersStatus(context.Background(), u.AccountID, []int64{u.ID}, models.UserDisabled)
		}, func(s *store.Store, u *models.SDPUser) error {
			return s.SetUsersStatus(context.Background(), u.AccountID, []int64{u.ID}, models.UserEnabled)
		}, ErrUserDisabled},
		{"mfa", func(tx *store.Store, u *models.SDPUser) error {
			return tx.SetUserTOTP(context.Background(), u.AccountID, u.ID, "sealed-key", 1)
		}, func(s *store.Store, u *models.SDPUser) error {
			return s.ClearUserTOTP(context.Background(), u.AccountID, u.ID)
		}, ErrMFAConfigured},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newRedemptionFixture(t, DefaultLimits)
			code := f.code(t)
			err := storetest.WhileHeld(t, f.s, func(tx *store.Store) error { return tc.change(tx, f.user) },
				func() error { return f.redeem(code, "192.0.2.1") })
			if !errors.Is(err, tc.want) {
				t.Fatalf("redemption during the change: %v, want %v", err, tc.want)
			}
			n, _ := codes.Normalize(code)
			c, err := f.s.CodeByLookup(t.Context(), f.sealer.Lookup(n))
			if err != nil || c.UsedAt != nil || c.DeviceID != nil || c.Encrypted == "" {
				t.Fatalf("the code was used up: %+v (%v)", c, err)
			}
			u, err := f.s.User(t.Context(), f.user.AccountID, f.user.ID)
			if err != nil || u.ActiveCodes != 1 || u.Devices != 0 {
				t.Fatalf("counters: %d active codes, %d devices (%v)", u.ActiveCodes, u.Devices, err)
			}
			if f.events(t, models.SubDeviceRegistered) != 0 || f.events(t, models.SubCodeUsed) != 0 {
				t.Fatal("a refused redemption wrote its success events")
			}
			// Undone, the same code registers the device, with both events.
			if err := tc.undo(f.s, f.user); err != nil {
				t.Fatal(err)
			}
			if err := f.redeem(code, "192.0.2.1"); err != nil {
				t.Fatal(err)
			}
			u, err = f.s.User(t.Context(), f.user.AccountID, f.user.ID)
			if err != nil || u.ActiveCodes != 0 || u.Devices != 1 {
				t.Fatalf("counters after the redemption: %d active codes, %d devices (%v)", u.ActiveCodes, u.Devices, err)
			}
			if f.events(t, models.SubDeviceRegistered) != 1 || f.events(t, models.SubCodeUsed) != 1 {
				t.Fatal("the redemption did not write one Used and one Registered event")
			}
		})
	}
}

// On PostgreSQL a well-formed code is admitted within its client's shared failure budget by the
// redemption's own statement. Past the budget that statement writes nothing, and the
// redemption waits for its turn as one admitted first would; a turn further away is refused
// and leaves the code unused.
func TestRedemptionPastTheSharedBudget(t *testing.T) {
	t.Parallel()
	if storetest.URL() == "" {
		t.Skip("failure budgets are shared on PostgreSQL only; on SQLite a redemption is admitted from memory before its statement")
	}
	f := newRedemptionFixture(t, Limits{IPFailBurst: 2, IPFailEvery: time.Minute, FloodBurst: 100, FloodEvery: time.Second})
	var waits []time.Duration
	f.svc.WithSleep(func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil })
	const ip = "192.0.2.7"
	for range 2 {
		if err := f.redeem(codes.Format(codes.New()), ip); !errors.Is(err, ErrInvalidCode) {
			t.Fatalf("a bad code: %v", err)
		}
	}
	if len(waits) != 0 {
		t.Fatalf("the budget's burst waited: %v", waits)
	}
	// The bucket owes two failures: a good code's statement refuses it, and it waits a minute.
	good := f.code(t)
	if err := f.redeem(good, ip); err != nil {
		t.Fatalf("a good code past the burst: %v", err)
	}
	if len(waits) != 1 || waits[0] <= 50*time.Second || waits[0] > time.Minute {
		t.Fatalf("waits %v, want one of about a minute", waits)
	}
	if f.events(t, models.SubDeviceRegistered) != 1 {
		t.Fatal("the good code did not register its device once")
	}
	// One more failure (its turn within the wait) puts the next turn beyond the wait: a good
	// code is refused, and left as it was.
	if err := f.redeem(codes.Format(codes.New()), ip); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("a bad code within the wait: %v", err)
	}
	other := f.code(t)
	var limited *models.RateLimitError
	if err := f.redeem(other, ip); !errors.As(err, &limited) {
		t.Fatalf("a good code past the budget and its wait: %v, want a rate limit", err)
	}
	n, _ := codes.Normalize(other)
	if c, err := f.s.CodeByLookup(t.Context(), f.sealer.Lookup(n)); err != nil || c.UsedAt != nil {
		t.Fatalf("the refused code: %+v (%v)", c, err)
	}
	if f.events(t, models.SubDeviceRegistered) != 1 {
		t.Fatal("a refused redemption registered a device")
	}
}
