package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"onramp/models"
	"onramp/models/store"
)

// Trace reports what was sent, in order, with the transactions around it: a page's statements
// replayed from it must be the page's.
func TestTraceReportsWhatWasSent(t *testing.T) {
	t.Parallel()
	s, a := acmeStore(t)
	ctx := context.Background()
	var got []string
	if err := s.Trace(func(sql string, _ []any) { got = append(got, strings.Fields(sql)[0]) }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ListUsers(ctx, a.ID, store.UserFilter{}, store.Keyset{}, 50, 10_000); err != nil {
		t.Fatal(err)
	}
	err := s.Tx(ctx, func(tx *store.Store) error {
		_, err := tx.OpenRun(ctx, a.ID, models.RunUserAction) // finds none: sent all the same
		return err
	})
	if !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("OpenRun: %v", err)
	}
	// The count (its subquery, built by a dry run, is not sent alone), the page, then the
	// transaction that failed.
	want := "SELECT SELECT BEGIN SELECT ROLLBACK"
	if strings.Join(got, " ") != want {
		t.Fatalf("traced %v, want %s", got, want)
	}
}
