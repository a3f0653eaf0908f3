package storetest

import (
	"context"
	"testing"
	"time"

	"onramp/migrations"
	"onramp/models/store"
)

// WhileHeld shows that two changes take turns. It runs hold in a transaction and, while that
// transaction is still open, other in a goroutine; on PostgreSQL it waits until other waits for
// a row lock (failing the test if other finishes first: it did not wait), then commits hold's
// transaction and returns other's error, so that the test can check that other saw what hold
// did. SQLite runs one write transaction at a time: other simply runs after the commit.
func WhileHeld(t testing.TB, s *store.Store, hold func(tx *store.Store) error, other func() error) error {
	t.Helper()
	held, release, committed := make(chan error, 1), make(chan struct{}), make(chan error, 1)
	go func() {
		committed <- s.Tx(context.Background(), func(tx *store.Store) error {
			err := hold(tx)
			held <- err
			if err != nil {
				return err
			}
			<-release
			return nil
		})
	}()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- other() }()
	waitForLockWait(t, s, done)
	close(release)
	if err := <-committed; err != nil {
		t.Fatal(err)
	}
	return <-done
}

// waitForLockWait returns once another session of s's PostgreSQL database waits for a row
// lock, and fails the test if done delivers first.
func waitForLockWait(t testing.TB, s *store.Store, done <-chan error) {
	t.Helper()
	if s.Dialect() != migrations.Postgres {
		return
	}
	for {
		select {
		case err := <-done:
			t.Fatalf("finished without waiting for the lock: %v", err)
		default:
		}
		var n int
		err := s.SQLDB().QueryRow(`SELECT COUNT(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}
