package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"onramp/migrations"
	"onramp/models"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

// schemaOf lists the tables' indexes and constraints as PostgreSQL defines them.
func schemaOf(t *testing.T, s *store.Store, tables ...string) string {
	t.Helper()
	rows, err := s.SQLDB().Query(`SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ANY($1)
		UNION ALL SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated
		FROM pg_constraint WHERE conrelid = ANY($1::regclass[]) ORDER BY 1`, tables)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var def string
		if err := rows.Scan(&def); err != nil {
			t.Fatal(err)
		}
		out = append(out, def)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, "\n")
}

// TestLoadFreshBuildsTheIndexesAgain: into tables without users, LoadFresh takes the rows that
// goroutines sharing its Loader copy, and leaves every index and constraint as the migrations
// made them, the foreign keys checked (a row naming a missing one fails the load); a failure
// rolls back rows and indexes alike; tables with users are not its to load.
func TestLoadFreshBuildsTheIndexesAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Open(t)
	account := models.NewAccount("fresh.example")
	if err := s.CreateAccount(ctx, account); err != nil {
		t.Fatal(err)
	}
	tables := []string{"sdp_users", "events"}
	users := func(from, n int) []*models.SDPUser {
		now := time.Now().UTC()
		us := make([]*models.SDPUser, n)
		for i := range us {
			us[i] = &models.SDPUser{AccountID: account.ID, FirstName: "Fresh", LastName: fmt.Sprint(from + i),
				Email: fmt.Sprintf("fresh.%d@example.com", from+i), Origin: models.OriginManual, Status: models.UserEnabled,
				Activation: models.ActivationNew, CreatedAt: now, UpdatedAt: now}
		}
		return us
	}
	load := func(l *store.Loader, from int) error {
		us := users(from, 50)
		if err := l.Users(us); err != nil {
			return err
		}
		es := make([]*models.Event, len(us))
		for i, u := range us {
			es[i] = models.UserEvent(u, models.EventUser, models.SubUserCreated, models.Actor{Type: models.ActorSystem, Label: "test"}, nil)
		}
		return l.Events(es)
	}
	if s.Dialect() != migrations.Postgres {
		if err := s.LoadFresh(ctx, tables, nil, func(*store.Loader) error { return nil }); !errors.Is(err, store.ErrNotEmpty) {
			t.Fatalf("LoadFresh on SQLite: %v, want ErrNotEmpty", err)
		}
		return
	}
	before := schemaOf(t, s, tables...)

	// A failure rolls everything back.
	boom := errors.New("boom")
	if err := s.LoadFresh(ctx, tables, nil, func(l *store.Loader) error {
		if err := load(l, 0); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("LoadFresh: %v, want the load's error", err)
	}
	if n, _ := s.CountUsers(ctx, account.ID, store.UserFilter{}); n != 0 {
		t.Fatalf("%d users after a failed load", n)
	}
	if after := schemaOf(t, s, tables...); after != before {
		t.Fatalf("indexes after a failed load:\n%s\nwant\n%s", after, before)
	}

	// A row naming a missing one fails the load when the foreign keys come back.
	err := s.LoadFresh(ctx, tables, nil, func(l *store.Loader) error {
		u := users(0, 1)
		u[0].AccountID = account.ID + 1000
		return l.Users(u)
	})
	if err == nil || !strings.Contains(err.Error(), "foreign key") {
		t.Fatalf("a user of no account: %v, want a foreign key violation", err)
	}
	if n, _ := s.CountUsers(ctx, account.ID+1000, store.UserFilter{}); n != 0 {
		t.Fatalf("%d users of no account stayed", n)
	}

	// Four goroutines share the Loader.
	building := false
	if err := s.LoadFresh(ctx, tables, func() { building = true }, func(l *store.Loader) error {
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for w := range errs {
			wg.Go(func() { errs[w] = load(l, 50*w) })
		}
		wg.Wait()
		return errors.Join(errs...)
	}); err != nil {
		t.Fatal(err)
	}
	if !building {
		t.Error("building was not told")
	}
	if after := schemaOf(t, s, tables...); after != before {
		t.Fatalf("indexes after the load:\n%s\nwant\n%s", after, before)
	}
	if n, _ := s.CountUsers(ctx, account.ID, store.UserFilter{}); n != 200 {
		t.Fatalf("%d users after the load, want 200", n)
	}
	var events int
	if err := s.SQLDB().QueryRow("SELECT COUNT(*) FROM events e JOIN sdp_users u ON u.id = e.sdp_user_id").Scan(&events); err != nil || events != 200 {
		t.Fatalf("%d events of the users, want 200 (%v)", events, err)
	}
	// The unique index is back: a second user with a loaded email is refused.
	if err := s.CreateUsers(ctx, users(0, 1)); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("a duplicate email after the load: %v, want a conflict", err)
	}

	// Now that there are users, it is not LoadFresh's to do.
	called := false
	if err := s.LoadFresh(ctx, tables, nil, func(*store.Loader) error { called = true; return nil }); !errors.Is(err, store.ErrNotEmpty) || called {
		t.Fatalf("LoadFresh with users: %v (called %v), want ErrNotEmpty", err, called)
	}
}
