package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

// acmeStore is a store with an account.
func acmeStore(t *testing.T) (*store.Store, *models.Account) {
	t.Helper()
	s := storetest.Open(t)
	a := models.NewAccount("acme")
	if err := s.CreateAccount(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return s, a
}

// cachedStore is acmeStore with caches that read a clock the test moves.
func cachedStore(t *testing.T) (*store.Store, *models.Account, func(time.Duration)) {
	t.Helper()
	s, a := acmeStore(t)
	at := time.Now()
	store.SetCacheClockForTest(s, func() time.Time { return at })
	return s, a, func(d time.Duration) { at = at.Add(d) }
}

func newUser(a *models.Account, email, origin string) *models.SDPUser {
	now := time.Now().UTC()
	return &models.SDPUser{AccountID: a.ID, FirstName: "Nora", LastName: "Kim", Email: email, Origin: origin,
		Status: models.UserEnabled, Activation: models.ActivationNew, CreatedAt: now, UpdatedAt: now}
}

func origins(t *testing.T, s *store.Store, a *models.Account) []string {
	t.Helper()
	out, err := s.UserOrigins(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The origins menu shows this server's changes at once, committed or not yet visible to others,
// and another server's (a row written behind the store's back) within the cache's few seconds.
func TestUserOriginsCache(t *testing.T) {
	t.Parallel()
	s, a, advance := cachedStore(t)
	ctx := context.Background()
	if err := s.CreateUser(ctx, newUser(a, "a@example.com", models.OriginManual)); err != nil {
		t.Fatal(err)
	}
	if got := origins(t, s, a); !slices.Equal(got, []string{models.OriginManual}) {
		t.Fatalf("origins %v", got)
	}
	u := newUser(a, "b@example.com", "okta")
	if err := s.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreateUsers(ctx, []*models.SDPUser{u}); err != nil {
			return err
		}
		// Read inside the transaction, before the commit: the cache must not keep it.
		_ = origins(t, s, a)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := origins(t, s, a); !slices.Equal(got, []string{models.OriginManual, "okta"}) {
		t.Fatalf("after creating an okta user: %v", got)
	}
	if err := s.DeleteUsers(ctx, a.ID, []int64{u.ID}); err != nil {
		t.Fatal(err)
	}
	if got := origins(t, s, a); !slices.Equal(got, []string{models.OriginManual}) {
		t.Fatalf("after deleting it: %v", got)
	}
	// Another server's user.
	if _, err := s.SQLDB().Exec("UPDATE sdp_users SET origin = 'ldap' WHERE account_id = $1", a.ID); err != nil {
		t.Fatal(err)
	}
	if got := origins(t, s, a); !slices.Equal(got, []string{models.OriginManual}) {
		t.Fatalf("another server's change showed before the cache expired: %v", got)
	}
	advance(3 * time.Second)
	if got := origins(t, s, a); !slices.Equal(got, []string{"ldap"}) {
		t.Fatalf("another server's change did not show once the cache expired: %v", got)
	}
}

func TestShownOpenRunCache(t *testing.T) {
	t.Parallel()
	s, a, advance := cachedStore(t)
	ctx := context.Background()
	shown := func() *models.Run {
		t.Helper()
		run, err := s.ShownOpenRun(ctx, a.ID, models.RunUserAction)
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	if run := shown(); run != nil {
		t.Fatalf("open run %+v in a new account", run)
	}
	now := time.Now().UTC()
	run := &models.Run{AccountID: a.ID, Kind: models.RunUserAction, Action: "disable", Status: models.RunQueued,
		ActorType: models.ActorSystem, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	if got := shown(); got == nil || got.ID != run.ID {
		t.Fatalf("created run not shown: %+v", got)
	}
	got := shown()
	got.Status = models.RunFailed // a reader's change stays its own
	if again := shown(); again.Status != models.RunQueued {
		t.Fatalf("the cache kept a reader's change: %+v", again)
	}
	if err := s.AddRunProgress(ctx, run.ID, 10, 10, 0); err != nil {
		t.Fatal(err)
	}
	if got := shown(); got.Done != 10 {
		t.Fatalf("progress not shown: %+v", got)
	}
	if err := s.FinishRun(ctx, run.ID, now); err != nil {
		t.Fatal(err)
	}
	if got := shown(); got != nil {
		t.Fatalf("finished run still shown: %+v", got)
	}
	// Another server's run.
	if _, err := s.SQLDB().Exec("UPDATE runs SET status = 'running' WHERE id = $1", run.ID); err != nil {
		t.Fatal(err)
	}
	if got := shown(); got != nil {
		t.Fatalf("another server's change showed before the cache expired: %+v", got)
	}
	advance(3 * time.Second)
	if got := shown(); got == nil || got.ID != run.ID {
		t.Fatalf("another server's run did not show once the cache expired: %+v", got)
	}
	// Deciding on a run never reads the cache.
	if _, err := s.SQLDB().Exec("UPDATE runs SET status = 'done' WHERE id = $1", run.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenRun(ctx, a.ID, models.RunUserAction); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("OpenRun: %v, want not found", err)
	}
}

func TestConsoleSessionReadsAdminAndAccount(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := context.Background()
	a := models.NewAccount("acme")
	a.SSOEnabled = true
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	admin := &models.Admin{AccountID: a.ID, Email: "boss@example.com", Name: "Boss", Role: models.RoleHelpdesk,
		Status: models.AdminActive, PasswordHash: "hash", TOTPSecret: "sealed", TOTPLastStep: 7, BreakGlass: true,
		LastSignInAt: &now, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateAdmin(ctx, admin); err != nil {
		t.Fatal(err)
	}
	sess := &models.Session{ID: "hash-of-token", OwnerID: admin.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour),
		IP: "192.0.2.1", UserAgent: "test"}
	if err := s.CreateSession(ctx, models.ConsoleSession, sess); err != nil {
		t.Fatal(err)
	}
	gotSess, gotAdmin, gotAccount, err := s.ConsoleSession(ctx, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantAdmin, _ := s.AdminByID(ctx, admin.ID)
	wantAccount, _ := s.Account(ctx, a.ID)
	wantSess, _ := s.Session(ctx, models.ConsoleSession, sess.ID)
	if *gotSess != *wantSess || gotAdmin.ID != wantAdmin.ID || gotAdmin.Email != wantAdmin.Email || gotAdmin.Role != wantAdmin.Role ||
		gotAdmin.TOTPSecret != "sealed" || gotAdmin.TOTPLastStep != 7 || !gotAdmin.BreakGlass || gotAdmin.LastSignInAt == nil ||
		!gotAdmin.LastSignInAt.Equal(*wantAdmin.LastSignInAt) || gotAdmin.PasswordHash != "hash" || *gotAccount != *wantAccount || !gotAccount.SSOEnabled {
		t.Fatalf("ConsoleSession:\n%+v %+v %+v\nwant\n%+v %+v %+v", gotSess, gotAdmin, gotAccount, wantSess, wantAdmin, wantAccount)
	}
	if _, _, _, err := s.ConsoleSession(ctx, "unknown"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
}
