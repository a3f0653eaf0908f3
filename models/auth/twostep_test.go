package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"onramp/models"
	"onramp/models/auth"
	"onramp/models/password"
	"onramp/models/secret"
	"onramp/models/sessions"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

const pw = "quiet orchard lamplight"

// fixture is the service on a fresh database with one admin, and a clock the test moves.
type fixture struct {
	t     *testing.T
	svc   *auth.Service
	store *store.Store
	admin *models.Admin
	now   time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, store: storetest.Open(t), now: time.Date(2026, 6, 1, 8, 0, 10, 0, time.UTC)}
	hasher := password.NewFastHasher()
	f.svc = auth.New(f.store, hasher, secret.NewKeys([]byte("auth-test-secret-auth-test-secret")), auth.Config{}).
		WithClock(func() time.Time { return f.now })
	ctx := context.Background()
	acc := models.NewAccount("acme")
	if err := f.store.CreateAccount(ctx, acc); err != nil {
		t.Fatal(err)
	}
	hash, _ := hasher.Hash(pw)
	f.admin = &models.Admin{AccountID: acc.ID, Email: "ada@example.com", Name: "Ada", Role: models.RoleAdmin,
		Status: models.AdminActive, PasswordHash: hash}
	if err := f.store.CreateAdmin(ctx, f.admin); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) advance(d time.Duration) { f.now = f.now.Add(d) }

// code is the authenticator's code for key at the fixture's time plus offset.
func (f *fixture) code(key string, offset time.Duration) string {
	f.t.Helper()
	c, err := totp.GenerateCode(key, f.now.Add(offset))
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// wrongCode is a well-formed code that the key does not give now (nor a step either side).
func (f *fixture) wrongCode(key string) string {
	for _, c := range []string{"000000", "999999"} {
		if c != f.code(key, 0) && c != f.code(key, -30*time.Second) && c != f.code(key, 30*time.Second) {
			return c
		}
	}
	return "123456"
}

func (f *fixture) signIn(pwd, code string) (*auth.Current, error) {
	cur, _, err := f.svc.SignIn(context.Background(), auth.SignInInput{Email: "Ada@example.com", Password: pwd, TOTP: code}, "198.51.100.9", "test")
	return cur, err
}

// enroll turns two-step verification on for the admin from a new session and returns the key
// and that session.
func (f *fixture) enroll() (string, *auth.Current) {
	f.t.Helper()
	cur, err := f.signIn(pw, "")
	if err != nil {
		f.t.Fatal(err)
	}
	e, err := f.svc.BeginTOTP(cur)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.svc.ConfirmTOTP(context.Background(), cur, e.Pending, f.code(e.Secret, 0), "198.51.100.9"); err != nil {
		f.t.Fatal(err)
	}
	f.advance(time.Minute) // past the code used to confirm
	return e.Secret, cur
}

// lastEvent returns the newest event of a sub-type and its details.
func (f *fixture) lastEvent(sub string) (models.Event, map[string]string) {
	f.t.Helper()
	evs, err := f.store.RecentEvents(context.Background(), f.admin.AccountID, 100)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, e := range evs {
		if e.Type == models.EventAdmin && e.SubType == sub {
			d := map[string]string{}
			if e.Details != "" {
				if err := json.Unmarshal([]byte(e.Details), &d); err != nil {
					f.t.Fatal(err)
				}
			}
			return e, d
		}
	}
	f.t.Fatalf("no Admin / %s event", sub)
	return models.Event{}, nil
}

func (f *fixture) lastFailure() string {
	f.t.Helper()
	_, d := f.lastEvent(models.SubSignInFailed)
	return d["reason"]
}

func TestSignInAsksForTheCodeOnlyAfterThePassword(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	key, _ := f.enroll()

	// Without the right password nothing tells that the account has two-step verification.
	for _, code := range []string{"", f.code(key, 0)} {
		_, err := f.signIn("wrong password entirely", code)
		if !errors.Is(err, models.ErrUnauthorized) || errors.Is(err, auth.ErrMFARequired) || errors.Is(err, auth.ErrWrongCode) {
			t.Fatalf("wrong password with code %q: %v", code, err)
		}
		if r := f.lastFailure(); r != "wrong password" {
			t.Fatalf("reason %q", r)
		}
	}

	_, err := f.signIn(pw, "")
	if !errors.Is(err, auth.ErrMFARequired) {
		t.Fatalf("no code: %v", err)
	}
	if r := f.lastFailure(); r != "authenticator code missing" {
		t.Fatalf("reason %q", r)
	}
	if _, err := f.signIn(pw, f.wrongCode(key)); !errors.Is(err, auth.ErrWrongCode) {
		t.Fatalf("wrong code: %v", err)
	}
	if r := f.lastFailure(); r != "wrong authenticator code" {
		t.Fatalf("reason %q", r)
	}

	// The code that came with a wrong password was not spent: it still signs in, once.
	code := f.code(key, 0)
	cur, err := f.signIn(pw, code)
	if err != nil || cur.Admin.ID != f.admin.ID {
		t.Fatalf("right code: %v", err)
	}
	if _, err := f.signIn(pw, code); !errors.Is(err, auth.ErrWrongCode) {
		t.Fatalf("replayed code: %v", err)
	}
	if r := f.lastFailure(); r != "wrong authenticator code" {
		t.Fatalf("replay reason %q", r)
	}
	for _, e := range mustEvents(t, f) {
		if strings.Contains(e.Details, code) || strings.Contains(e.Details, key) {
			t.Fatalf("event %s / %s holds a secret: %s", e.Type, e.SubType, e.Details)
		}
	}
}

func mustEvents(t *testing.T, f *fixture) []models.Event {
	t.Helper()
	evs, err := f.store.RecentEvents(context.Background(), f.admin.AccountID, 100)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// Phone clocks drift: the codes of the step before and after are accepted, not further.
func TestSignInAcceptsOneStepOfDrift(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	key, _ := f.enroll()
	tests := []struct {
		name   string
		offset time.Duration
		ok     bool
	}{
		{"phone 30 s behind", -30 * time.Second, true},
		{"phone 30 s ahead", 30 * time.Second, true},
		{"phone 60 s behind", -60 * time.Second, false},
		{"phone 90 s ahead", 90 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.advance(5 * time.Minute) // a fresh window each time: no step was used yet
			_, err := f.signIn(pw, f.code(key, tt.offset))
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v", err)
			}
			if !tt.ok && !errors.Is(err, auth.ErrWrongCode) {
				t.Fatalf("err = %v, want ErrWrongCode", err)
			}
		})
	}
}

func TestWrongCodesSpendTheSignInLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	key, _ := f.enroll()
	for i := 0; i < sessions.SignInFailBurst; i++ {
		code, want := f.wrongCode(key), auth.ErrWrongCode
		if i == 0 {
			code, want = "", auth.ErrMFARequired
		}
		if _, err := f.signIn(pw, code); !errors.Is(err, want) {
			t.Fatalf("attempt %d: %v, want %v", i, err, want)
		}
	}
	// Even the right code is refused now, without being checked.
	var rl *models.RateLimitError
	if _, err := f.signIn(pw, f.code(key, 0)); !errors.As(err, &rl) {
		t.Fatalf("after %d failures: %v", sessions.SignInFailBurst, err)
	}
	f.advance(sessions.SignInFailEvery)
	if _, err := f.signIn(pw, f.code(key, 0)); err != nil {
		t.Fatalf("after waiting: %v", err)
	}
}

func TestEnrollTwoStep(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	other, err := f.signIn(pw, "")
	if err != nil {
		t.Fatal(err)
	}
	cur, err := f.signIn(pw, "")
	if err != nil {
		t.Fatal(err)
	}
	e, err := f.svc.BeginTOTP(cur)
	if err != nil {
		t.Fatal(err)
	}
	var ve *models.ValidationError
	// The pending enrollment belongs to the session that started it.
	if err := f.svc.ConfirmTOTP(ctx, other, e.Pending, f.code(e.Secret, 0), "ip"); !errors.As(err, &ve) || ve.Fields[""] == "" {
		t.Fatalf("confirmed from another session: %v", err)
	}
	if err := f.svc.ConfirmTOTP(ctx, cur, e.Pending, "12345", "ip"); !errors.As(err, &ve) || ve.Fields["totp"] == "" {
		t.Fatalf("short code: %v", err)
	}
	// Resuming shows the same key; an expired one gives a new key.
	if again, err := f.svc.ResumeTOTP(cur, e.Pending); err != nil || again.Secret != e.Secret {
		t.Fatalf("resume: %v", err)
	}
	f.advance(31 * time.Minute)
	if err := f.svc.ConfirmTOTP(ctx, cur, e.Pending, f.code(e.Secret, 0), "ip"); !errors.As(err, &ve) || ve.Fields[""] == "" {
		t.Fatalf("expired enrollment: %v", err)
	}
	fresh, err := f.svc.ResumeTOTP(cur, e.Pending)
	if err != nil || fresh.Secret == e.Secret {
		t.Fatalf("resume after expiry: %v", err)
	}
	if err := f.svc.ConfirmTOTP(ctx, cur, fresh.Pending, f.code(fresh.Secret, 0), "ip"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.BeginTOTP(cur); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("begin when on: %v", err)
	}
	got, err := f.store.Admin(ctx, f.admin.AccountID, f.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.HasTOTP() || strings.Contains(got.TOTPSecret, fresh.Secret) || got.TOTPLastStep != f.now.Unix()/30 {
		t.Fatalf("stored %q step %d", got.TOTPSecret, got.TOTPLastStep)
	}
	if _, d := f.lastEvent(models.SubMFAEnrolled); d["method"] != "totp" {
		t.Fatalf("details %v", d)
	}
	// Turning it on ends the admin's other sessions and keeps this one.
	n, err := countSessions(f, other.SessionID, cur.SessionID)
	if err != nil || n != 1 {
		t.Fatalf("%d of the two sessions left (%v), want only the current one", n, err)
	}
}

// countSessions counts which of the given session ids still exist.
func countSessions(f *fixture, ids ...string) (int, error) {
	n := 0
	for _, id := range ids {
		_, err := f.store.Session(context.Background(), models.ConsoleSession, id)
		switch {
		case err == nil:
			n++
		case !errors.Is(err, models.ErrNotFound):
			return n, err
		}
	}
	return n, nil
}

func TestRemoveTwoStep(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	key, cur := f.enroll()
	cur.Admin, _ = f.store.Admin(ctx, f.admin.AccountID, f.admin.ID)
	var ve *models.ValidationError
	if err := f.svc.RemoveTOTP(ctx, cur, "", "", "ip"); !errors.As(err, &ve) || ve.Fields["totp"] == "" {
		t.Fatalf("no proof: %v", err)
	}
	// A used code does not work again.
	used := f.code(key, 0)
	if _, err := f.signIn(pw, used); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RemoveTOTP(ctx, cur, used, "", "ip"); !errors.As(err, &ve) || ve.Fields["totp"] == "" {
		t.Fatalf("used code: %v", err)
	}
	if err := f.svc.RemoveTOTP(ctx, cur, "", "not my password", "ip"); !errors.As(err, &ve) || ve.Fields["password"] == "" {
		t.Fatalf("wrong password: %v", err)
	}
	// Wrong secrets are limited per admin: a stolen session cannot guess its way through.
	for i := 2; i < sessions.CheckFailBurst; i++ {
		_ = f.svc.RemoveTOTP(ctx, cur, "", "not my password", "ip")
	}
	var rl *models.RateLimitError
	if err := f.svc.RemoveTOTP(ctx, cur, "", pw, "ip"); !errors.As(err, &rl) {
		t.Fatalf("after %d failures: %v", sessions.CheckFailBurst, err)
	}
	f.advance(sessions.CheckFailEvery)
	if err := f.svc.RemoveTOTP(ctx, cur, "", pw, "ip"); err != nil {
		t.Fatal(err)
	}
	if _, d := f.lastEvent(models.SubMFARemoved); d["verified_with"] != "password" {
		t.Fatalf("details %v", d)
	}
	if _, err := f.signIn(pw, ""); err != nil {
		t.Fatalf("sign-in without a code after removal: %v", err)
	}
	if n, err := countSessions(f, cur.SessionID); err != nil || n != 1 {
		t.Fatalf("removal ended the session (%v)", err)
	}
}
