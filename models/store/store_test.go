package store_test

import (
	"context"
	"sync"
	"testing"

	"onramp/models"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

// Transactions that read before they write must not fail with "database is locked" when they
// run at the same time: on SQLite they take the write lock at BEGIN (IMMEDIATE) and queue.
func TestConcurrentReadThenWriteTransactions(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := context.Background()
	a := models.NewAccount("acme")
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Tx(ctx, func(tx *store.Store) error {
				acct, err := tx.Account(ctx, a.ID)
				if err != nil {
					return err
				}
				return tx.CreateEvent(ctx, models.NewEvent(&acct.ID, models.EventAdmin, models.SubSettingsChanged, models.Actor{Type: models.ActorSystem}, "", nil))
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	evs, err := s.RecentEvents(ctx, a.ID, 100)
	if err != nil || len(evs) != 16 {
		t.Fatalf("%d events (%v)", len(evs), err)
	}
}
