package portal

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"onramp/models"
	"onramp/models/password"
	"onramp/models/secret"
	"onramp/models/sessions"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

func newService(t *testing.T) (*Service, *store.Store) {
	t.Helper()
	s := storetest.Open(t)
	return New(s, password.NewFastHasher(), secret.NewKeys([]byte("test-secret-test-secret-test-secret!")), sessions.Config{}), s
}

func newUser(t *testing.T, s *store.Store) (*models.Account, *models.SDPUser) {
	t.Helper()
	ctx := context.Background()
	acc := models.NewAccount("acme")
	if err := s.CreateAccount(ctx, acc); err != nil {
		t.Fatal(err)
	}
	u := &models.SDPUser{AccountID: acc.ID, FirstName: "Grace", LastName: "Hopper", Email: "grace@example.com",
		Origin: models.OriginManual, Status: models.UserEnabled, Activation: models.ActivationInvitationSent}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	return acc, u
}

func TestMatchStep(t *testing.T) {
	t.Parallel()
	key := "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	now := time.Date(2026, 3, 1, 12, 0, 10, 0, time.UTC)
	step := now.Unix() / 30
	code := func(at time.Time) string {
		c, err := totp.GenerateCode(key, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name string
		code string
		want int64
	}{
		{"current", code(now), step},
		{"with spaces", code(now)[:3] + " " + code(now)[3:], step},
		{"previous step (clock drift)", code(now.Add(-30 * time.Second)), step - 1},
		{"next step (clock drift)", code(now.Add(30 * time.Second)), step + 1},
		{"two steps old", code(now.Add(-60 * time.Second)), 0},
		{"empty", "", 0},
		{"too short", code(now)[:5], 0},
		{"letters", "abcdef", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := matchStep(key, tt.code, now); got != tt.want {
				t.Fatalf("matchStep = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestSealerBindsPurposeAndOwner(t *testing.T) {
	t.Parallel()
	box := newSealer(secret.NewKeys([]byte("k")).DeriveAll("totp"))
	sealed := box.seal("JBSWY3DPEHPK3PXP", "totp-secret|1")
	if got, err := box.open(sealed, "totp-secret|1"); err != nil || got != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("open = %q %v", got, err)
	}
	if _, err := box.open(sealed, "totp-secret|2"); err == nil {
		t.Fatal("a key sealed for user 1 opened for user 2")
	}
	other := newSealer(secret.NewKeys([]byte("other")).DeriveAll("totp"))
	if _, err := other.open(sealed, "totp-secret|1"); err == nil {
		t.Fatal("opened with another master secret")
	}
	tampered := []byte(sealed)
	tampered[len(tampered)-2] ^= 1
	for _, bad := range []string{string(tampered), "", "not base64!", sealed[:10]} {
		if _, err := box.open(bad, "totp-secret|1"); err == nil {
			t.Fatalf("%q opened", bad)
		}
	}
	if first, second := box.seal("x", "a"), box.seal("x", "a"); first == second {
		t.Fatal("two seals of one value are equal: the nonce is not random")
	}
}

// One activation link sets one password, however many requests race for it.
func TestActivationLinkWorksOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	svc, s := newService(t)
	_, u := newUser(t, s)
	ctx := context.Background()
	token := secret.Token()
	if err := s.CreateToken(ctx, &models.OneTimeToken{Purpose: models.TokenUserActivation, TokenHash: secret.Hash(token),
		SDPUserID: &u.ID, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := svc.Activate(ctx, token, ActivateInput{Password: "copper meadow whistle", Confirm: "copper meadow whistle"}, "198.51.100.7", "test")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, models.ErrGone):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d activations succeeded, want 1", ok)
	}
	var events int
	if err := s.SQLDB().QueryRow("SELECT COUNT(*) FROM events WHERE sub_type = 'Activated'").Scan(&events); err != nil || events != 1 {
		t.Fatalf("%d Activated events (%v)", events, err)
	}
}

// A TOTP code signs in once, even when two sign-ins race with it.
func TestTOTPCodeAcceptedOnce(t *testing.T) {
	t.Parallel()
	svc, s := newService(t)
	acc, u := newUser(t, s)
	ctx := context.Background()
	hash, _ := password.NewFastHasher().Hash("copper meadow whistle")
	if err := s.ActivateUser(ctx, acc.ID, u.ID, hash); err != nil {
		t.Fatal(err)
	}
	u.PasswordHash, u.Activation = hash, models.ActivationActive
	cur := &Current{User: u, Account: acc, SessionID: "s1"}
	e, err := svc.BeginTOTP(cur)
	if err != nil {
		t.Fatal(err)
	}
	// Enroll with the previous step's code, so that the current one is still unused.
	prev, _ := totp.GenerateCode(e.Secret, time.Now().Add(-30*time.Second))
	// The pending enrollment is bound to its session: posted from another one, it does not open.
	var ve *models.ValidationError
	if err := svc.ConfirmTOTP(ctx, &Current{User: u, Account: acc, SessionID: "s2"}, e.Pending, prev, "198.51.100.7"); !errors.As(err, &ve) {
		t.Fatalf("confirmed from another session: %v", err)
	}
	if err := svc.ConfirmTOTP(ctx, cur, e.Pending, prev, "198.51.100.7"); err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(e.Secret, time.Now())
	if code == prev {
		t.Skip("consecutive codes collide")
	}
	const n = 8
	var wg sync.WaitGroup
	results := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := svc.SignIn(ctx, SignInInput{Account: "acme", Email: "grace@example.com", Password: "copper meadow whistle", TOTP: code}, "198.51.100.7", "test")
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	ok := 0
	for err := range results {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrWrongCode), errors.As(err, new(*models.RateLimitError)):
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d sign-ins with one code succeeded, want 1", ok)
	}
}
