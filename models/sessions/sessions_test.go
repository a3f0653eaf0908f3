package sessions_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/password"
	"onramp/models/sessions"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// fixture: one admin and one SDP user, and a manager of each kind.
type fixture struct {
	store           *store.Store
	clock           *clock
	console, portal *sessions.Manager
	admin, user     int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	s := storetest.Open(t)
	ctx := t.Context()
	a := models.NewAccount("acme")
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	adm := &models.Admin{AccountID: a.ID, Email: "ada@example.com", Name: "Ada", Role: models.RoleAdmin, Status: models.AdminActive}
	if err := s.CreateAdmin(ctx, adm); err != nil {
		t.Fatal(err)
	}
	u := &models.SDPUser{AccountID: a.ID, FirstName: "Grace", LastName: "Hopper", Email: "grace@example.com", Origin: models.OriginManual,
		Status: models.UserEnabled, Activation: models.ActivationActive}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	c := &clock{now: time.Now().UTC()}
	cfg := sessions.Config{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 2 * time.Hour}
	h := password.NewFastHasher()
	return &fixture{store: s, clock: c, admin: adm.ID, user: u.ID,
		console: sessions.New(s, models.ConsoleSession, h, cfg).WithClock(c.Now),
		portal:  sessions.New(s, models.PortalSession, h, cfg).WithClock(c.Now)}
}

func (f *fixture) start(t *testing.T, m *sessions.Manager, owner int64) string {
	t.Helper()
	var token string
	err := f.store.Tx(t.Context(), func(tx *store.Store) error {
		var err error
		token, _, err = m.Start(t.Context(), tx, owner, "192.0.2.1", "test")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func allow(context.Context, int64) error { return nil }

func TestSessionsOfOneKindNeverOpenTheOther(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	token := f.start(t, f.console, f.admin)
	if _, err := f.portal.Resolve(t.Context(), token, allow); !errors.Is(err, models.ErrUnauthorized) {
		t.Fatalf("a console token resolved on the portal: %v", err)
	}
	sess, err := f.console.Resolve(t.Context(), token, allow)
	if err != nil || sess.OwnerID != f.admin {
		t.Fatalf("console: %+v %v", sess, err)
	}
}

func TestSessionTimeoutsAndRefusedOwners(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	// Idle: activity keeps a session alive, 31 quiet minutes end it.
	token := f.start(t, f.portal, f.user)
	for range 3 {
		f.clock.advance(20 * time.Minute)
		if _, err := f.portal.Resolve(ctx, token, allow); err != nil {
			t.Fatalf("active session refused: %v", err)
		}
	}
	f.clock.advance(31 * time.Minute)
	if _, err := f.portal.Resolve(ctx, token, allow); !errors.Is(err, models.ErrUnauthorized) {
		t.Fatalf("idle session accepted: %v", err)
	}
	// Absolute: two hours whatever the activity.
	token = f.start(t, f.portal, f.user)
	for range 5 {
		f.clock.advance(25 * time.Minute)
		_, _ = f.portal.Resolve(ctx, token, allow)
	}
	if _, err := f.portal.Resolve(ctx, token, allow); !errors.Is(err, models.ErrUnauthorized) {
		t.Fatalf("session older than its absolute limit accepted: %v", err)
	}
	// An owner who may no longer use it: refused, and the session is gone for good.
	token = f.start(t, f.portal, f.user)
	refuse := func(context.Context, int64) error { return models.ErrUnauthorized }
	if _, err := f.portal.Resolve(ctx, token, refuse); !errors.Is(err, models.ErrUnauthorized) {
		t.Fatalf("refused owner: %v", err)
	}
	if _, err := f.portal.Resolve(ctx, token, allow); !errors.Is(err, models.ErrUnauthorized) {
		t.Fatalf("the refused owner's session survived: %v", err)
	}
}

func TestPurgeDeletesOnlyExpiredSessionsOfItsKind(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	old := f.start(t, f.portal, f.user)
	f.start(t, f.console, f.admin)
	f.clock.advance(40 * time.Minute)
	fresh := f.start(t, f.portal, f.user)
	n, err := f.portal.Purge(ctx)
	if err != nil || n != 1 {
		t.Fatalf("purged %d (%v), want the one idle portal session", n, err)
	}
	if _, err := f.portal.Resolve(ctx, fresh, allow); err != nil {
		t.Fatalf("a live session was purged: %v", err)
	}
	if _, err := f.portal.Resolve(ctx, old, allow); !errors.Is(err, models.ErrUnauthorized) {
		t.Fatalf("the purged session resolved: %v", err)
	}
	if n, err := f.console.Purge(ctx); err != nil || n != 1 {
		t.Fatalf("console purge: %d %v, want its one idle session", n, err)
	}
}

func TestNewPasswordSpendsTheCheckBudget(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	hash, err := password.NewFastHasher().Hash("violet harbour lantern")
	if err != nil {
		t.Fatal(err)
	}
	const next = "a brand new passphrase"
	var ve *models.ValidationError
	if _, err := f.console.NewPassword(f.admin, hash, "violet harbour lantern", "short"); !errors.As(err, &ve) || ve.Fields["password"] == "" {
		t.Fatalf("a too short password: %v", err)
	}
	for i := range sessions.CheckFailBurst {
		if _, err := f.console.NewPassword(f.admin, hash, "wrong", next); !errors.As(err, &ve) || ve.Fields["current_password"] == "" {
			t.Fatalf("wrong current password %d: %v", i, err)
		}
	}
	var rl *models.RateLimitError
	if _, err := f.console.NewPassword(f.admin, hash, "violet harbour lantern", next); !errors.As(err, &rl) {
		t.Fatalf("after %d failures the right password got %v, want a rate limit", sessions.CheckFailBurst, err)
	}
	// Budgets are per owner and per kind: another person is not held back.
	if _, err := f.portal.NewPassword(f.admin, hash, "violet harbour lantern", next); err != nil {
		t.Fatalf("the portal's budget was spent by the console: %v", err)
	}
	f.clock.advance(sessions.CheckFailEvery)
	got, err := f.console.NewPassword(f.admin, hash, "violet harbour lantern", next)
	if err != nil {
		t.Fatalf("after the wait: %v", err)
	}
	if ok, err := password.NewFastHasher().Verify(next, got); !ok || err != nil {
		t.Fatalf("the new hash does not verify: %v %v", ok, err)
	}
}
