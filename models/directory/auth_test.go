package directory

import (
	"errors"
	"sync"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/secret"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

// tokenService is the service over a fresh database with account acme and a SCIM token of its
// directory Okta; clock, when set, is the service's.
func tokenService(t *testing.T, clock func() time.Time) (*Service, *store.Store, string) {
	t.Helper()
	st := storetest.Open(t)
	if err := st.CreateAccount(t.Context(), models.NewAccount("acme")); err != nil {
		t.Fatal(err)
	}
	s := New(st, nil, secret.NewKeys([]byte("test-secret-test-secret-test-secret!")))
	if clock != nil {
		s = s.WithClock(clock)
	}
	tok, err := s.IssueSCIMToken(t.Context(), "acme", "Okta", models.Actor{Type: models.ActorSystem})
	if err != nil {
		t.Fatal(err)
	}
	return s, st, tok
}

// TestAuthenticateLimitsFailuresPerAddress: failed authentications spend the budget of their
// client address (an IPv4 address, an IPv6 /64) only; past it every request from there is a
// RateLimitError until the budget refills, while good tokens spend nothing.
func TestAuthenticateLimitsFailuresPerAddress(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s, _, tok := tokenService(t, func() time.Time { return now })
	limited := func(err error) bool {
		var rl *models.RateLimitError
		return errors.As(err, &rl) && rl.RetryAfter > 0 && rl.RetryAfter <= AuthFailEvery
	}
	const attacker, neighbour = "2001:db8:1:2::1", "2001:db8:1:2::ffff"
	for range 3 * AuthFailBurst {
		if _, err := s.Authenticate(ctx, tok, attacker); err != nil {
			t.Fatalf("a good token: %v", err)
		}
	}
	for i := range AuthFailBurst {
		if _, err := s.Authenticate(ctx, "wrong", attacker); !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	for _, c := range []struct{ token, ip string }{{"wrong", attacker}, {tok, attacker}, {tok, neighbour}, {"", neighbour}} {
		if _, err := s.Authenticate(ctx, c.token, c.ip); !limited(err) {
			t.Errorf("%q from %s past the budget: %v", c.token, c.ip, err)
		}
	}
	for _, ip := range []string{"2001:db8:1:3::1", "192.0.2.7"} {
		if _, err := s.Authenticate(ctx, "wrong", ip); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("another address %s: %v", ip, err)
		}
		if d, err := s.Authenticate(ctx, tok, ip); err != nil || d.Name != "Okta" {
			t.Errorf("a good token from %s: %v", ip, err)
		}
	}
	now = now.Add(AuthFailEvery)
	if _, err := s.Authenticate(ctx, tok, attacker); err != nil {
		t.Errorf("a good token once the budget refilled: %v", err)
	}
}

// TestManyGoodRequestsAtOnceAreNeverLimited: an identity provider's workers authenticate from
// one address at the same moment, many more of them than the failure budget; none is refused.
func TestManyGoodRequestsAtOnceAreNeverLimited(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _, tok := tokenService(t, nil)
	const n = 8 * AuthFailBurst
	start := make(chan struct{})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			_, err := s.Authenticate(ctx, tok, "192.0.2.7")
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	refused := 0
	for err := range errs {
		if err != nil {
			refused++
		}
	}
	if refused > 0 {
		t.Fatalf("%d of %d good requests at once refused", refused, n)
	}
}

// TestAuthenticateRecordsLastUse: a token's last use (time and address) is written on its first
// use, on a use from another address, and once it is a minute old; not on every request.
func TestAuthenticateRecordsLastUse(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := start
	s, st, tok := tokenService(t, func() time.Time { return now })
	account, err := st.AccountByName(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	use := func(at time.Time, ip string, wantAt time.Time, wantIP string) {
		t.Helper()
		now = at
		if _, err := s.Authenticate(ctx, tok, ip); err != nil {
			t.Fatal(err)
		}
		ts, err := st.DirectoryTokens(ctx, account.ID)
		if err != nil || len(ts) != 1 {
			t.Fatalf("tokens: %v %v", ts, err)
		}
		if got := ts[0]; got.LastUsedAt == nil || !got.LastUsedAt.Equal(wantAt) || got.LastUsedIP != wantIP {
			t.Fatalf("at %s from %s: last used %v from %q, want %s from %s", at, ip, got.LastUsedAt, got.LastUsedIP, wantAt, wantIP)
		}
	}
	use(start, "192.0.2.1", start, "192.0.2.1")
	use(start.Add(59*time.Second), "192.0.2.1", start, "192.0.2.1")
	use(start.Add(time.Minute), "192.0.2.1", start.Add(time.Minute), "192.0.2.1")
	use(start.Add(time.Minute+time.Second), "192.0.2.2", start.Add(time.Minute+time.Second), "192.0.2.2")
}
