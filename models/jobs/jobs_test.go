package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"onramp/migrations"
	"onramp/models/jobs"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

type pingArgs struct{}

func (pingArgs) Kind() string { return "jobs_test.ping" }

func (pingArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: jobs.QueueRuns} }

type pingWorker struct {
	river.WorkerDefaults[pingArgs]
	ran chan struct{}
}

func (w *pingWorker) Work(context.Context, *river.Job[pingArgs]) error {
	w.ran <- struct{}{}
	return nil
}

// newJobs builds a client over s polling every poll, with the ping worker.
func newJobs(t *testing.T, s *store.Store, poll time.Duration) (*jobs.Jobs, *pingWorker) {
	t.Helper()
	j, err := jobs.New(s, jobs.Config{PollInterval: poll})
	if err != nil {
		t.Fatal(err)
	}
	w := &pingWorker{ran: make(chan struct{}, 10)}
	jobs.AddWorker(j, w)
	return j, w
}

// On PostgreSQL a job committed by one server is picked up by another at once, without waiting
// for a poll: the queues LISTEN for River's insert notifications. Here the polls are ten
// minutes apart; the job inserted by a client that works no job (another replica, or one busy
// elsewhere) must still run on the started one within the test's time. SQLite has no LISTEN:
// its queues find the job at their next poll.
func TestCommittedJobIsPickedUpWithoutWaitingForAPoll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Open(t)
	poll := 10 * time.Minute
	if s.Dialect() != migrations.Postgres {
		poll = 20 * time.Millisecond
	}
	inserter, _ := newJobs(t, s, poll)
	worker, w := newJobs(t, s, poll)
	if err := worker.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := worker.Stop(stop); err != nil {
			t.Errorf("stopping the jobs: %v", err)
		}
	})
	// The listener connects in the background once started: the first job may come before it
	// listens and wait for a poll, so each round inserts a job until one runs (a notification
	// fetches every job waiting).
	for range 3 {
		if err := s.Tx(ctx, func(tx *store.Store) error { return inserter.InsertTx(ctx, tx, pingArgs{}, nil) }); err != nil {
			t.Fatal(err)
		}
		select {
		case <-w.ran:
			return
		case <-time.After(20 * time.Second):
		}
	}
	t.Fatalf("no job ran within a minute, polls %s apart", poll)
}
