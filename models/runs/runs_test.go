package runs_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"onramp/migrations"
	"onramp/models"
	"onramp/models/jobs"
	"onramp/models/runs"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

// A long run works in slices: once a slice has taken its time it lets go of its job, which River
// runs again at once without counting an attempt, so that no attempt outlives its timeout and
// the rescuer never takes a live run for a dead one. Every batch is done once.
func TestLongRunWorksInSlices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Open(t)
	acct := models.NewAccount("acme")
	if err := s.CreateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	j, err := jobs.New(s, jobs.Config{RetryDelay: 20 * time.Millisecond, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Now().UTC()
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	r := runs.New(s, j, nil).WithClock(clock)
	const batches, perBatch = 5, 10
	// Each batch writes an event per user and takes an hour of the run's clock: longer than any
	// slice.
	r.Handle(models.RunGenerateCodes, func(ctx context.Context, tx *store.Store, run *models.Run) (runs.Step, error) {
		if run.Done >= batches*perBatch {
			return runs.Step{}, nil
		}
		for range perBatch {
			e := models.NewEvent(&run.AccountID, models.EventCode, models.SubCodeGenerated, run.Actor(), "", nil)
			if err := tx.CreateEvent(ctx, e); err != nil {
				return runs.Step{}, err
			}
		}
		mu.Lock()
		now = now.Add(time.Hour)
		mu.Unlock()
		return runs.Step{Done: perBatch, Affected: perBatch}, nil
	})
	run := &models.Run{AccountID: acct.ID, Kind: models.RunGenerateCodes, Total: batches * perBatch, ActorType: models.ActorSystem}
	if err := s.Tx(ctx, func(tx *store.Store) error { _, err := r.Start(ctx, tx, run); return err }); err != nil {
		t.Fatal(err)
	}
	if err := j.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := j.Stop(stop); err != nil {
			t.Errorf("stopping the jobs: %v", err)
		}
	})

	// River records the job's end after the run's: wait for both.
	q := "SELECT attempt, COALESCE(CAST(metadata->>'snoozes' AS INTEGER), 0) FROM river_job WHERE kind = 'runs.work' AND state = 'completed'"
	if s.Dialect() == migrations.SQLite {
		q = "SELECT attempt, COALESCE(json_extract(metadata, '$.snoozes'), 0) FROM river_job WHERE kind = 'runs.work' AND state = 'completed'"
	}
	var attempt, snoozes int
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := s.SQLDB().QueryRow(q).Scan(&attempt, &snoozes)
		if err == nil {
			break
		}
		if !errors.Is(err, sql.ErrNoRows) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			got, _ := s.Run(ctx, acct.ID, run.ID)
			t.Fatalf("the run's job never finished: %+v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	got, err := s.Run(ctx, acct.ID, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != models.RunDone || got.Done != batches*perBatch || got.Affected != batches*perBatch || got.Error != "" {
		t.Fatalf("finished run %+v", got)
	}
	var events int
	if err := s.SQLDB().QueryRow("SELECT COUNT(*) FROM events").Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != batches*perBatch {
		t.Fatalf("%d events for %d users", events, batches*perBatch)
	}
	// One slice per batch, each let go of without using up an attempt.
	if attempt != 1 || snoozes != batches {
		t.Fatalf("the job finished on attempt %d after %d slices let go, want attempt 1 after %d", attempt, snoozes, batches)
	}
}
