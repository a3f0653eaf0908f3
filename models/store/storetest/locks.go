package storetest

import (
	"testing"
	"time"

	"onramp/migrations"
	"onramp/models/store"
)

// WaitForLockWait returns once another session of s's PostgreSQL database waits for a row
// lock, and fails the test if done delivers first (that session finished without waiting).
// Tests of two transactions that must take turns hold one open, start the other, and call
// this before they let the first go. SQLite runs one write transaction at a time, so there is
// nothing to wait for there and it returns at once.
func WaitForLockWait(t testing.TB, s *store.Store, done <-chan error) {
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
