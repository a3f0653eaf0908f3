// Package runs drives bulk work that takes longer than a request should: "Generate for new
// users" and Users actions over large selections. A run is a row (models.Run) that the console
// shows with its progress, and a River job, inserted in the same transaction, that names only
// the row. The job commits one batch of users per transaction, each with the run's progress,
// so a run that stops (crash, restart, error) continues after its last committed batch when
// the job is tried again. A run that fails for good says so, with how far it got.
//
// The services own what a batch does (Handle); this package owns starting, attempts, progress
// and failure, the same for every kind.
package runs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"onramp/models"
	"onramp/models/jobs"
	"onramp/models/store"
)

// maxAttempts is how many times the job of a run is tried. Each attempt resumes where the
// last one stopped, so retrying costs nothing; after the last the run is marked failed.
const maxAttempts = 5

// A run's job works in slices: after sliceFor (by the runner's clock) it stops after the batch
// in progress and snoozes, which River runs again at once without counting an attempt. So an
// attempt of any size of run ends well within attemptTimeout, and attemptTimeout within River's
// rescue window (jobs.RescueAfter): a live run is never rescued, and run twice, as a dead one.
const (
	sliceFor       = time.Minute
	attemptTimeout = 3 * time.Minute
)

// staleAfter is how long an open run may go without progress before a new start may replace
// it: longer than the longest quiet spell of a live run, a killed attempt waiting for the
// rescue window, the rescuer's turn and a retry's backoff (about ten minutes).
const staleAfter = 30 * time.Minute

// ErrInProgress: the account already has a run of that kind queued or running.
var ErrInProgress = fmt.Errorf("%w: the same kind of work is already in progress", models.ErrConflict)

// errGone is a job whose run no longer exists (its account was deleted).
var errGone = errors.New("runs: the run no longer exists")

// errHeld is an attempt that found another live worker holding its run.
var errHeld = errors.New("runs: another worker holds the run")

// heartbeatEvery is how often a worker says that it is alive and still holds its run: well
// within models.RunStalledAfter.
const heartbeatEvery = 15 * time.Second

// Step is what one batch did.
type Step struct {
	Done     int   // users the batch went through; 0 means the run has nothing left
	Affected int   // of them, users it changed
	After    int64 // the last user id it went through (0: not tracked)
}

// Batch commits one batch of a run's work in tx, the transaction its progress is saved in.
type Batch func(ctx context.Context, tx *store.Store, run *models.Run) (Step, error)

// Runner starts runs and works through them.
type Runner struct {
	store *store.Store
	jobs  *jobs.Jobs
	log   *slog.Logger
	now   func() time.Time
	// batches is filled while wiring (Handle), before the jobs start, and only read after.
	batches map[models.RunKind]Batch
}

// New builds a runner and registers its worker with j; the kinds it runs are added with Handle.
func New(s *store.Store, j *jobs.Jobs, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Runner{store: s, jobs: j, log: log, now: func() time.Time { return time.Now().UTC() }, batches: map[models.RunKind]Batch{}}
	jobs.AddWorker(j, &worker{r: r})
	return r
}

// WithClock replaces the clock (tests).
func (r *Runner) WithClock(now func() time.Time) *Runner { r.now = now; return r }

// Handle says how to do a batch of runs of kind. Call it while wiring, before jobs start.
func (r *Runner) Handle(kind models.RunKind, b Batch) { r.batches[kind] = b }

type workArgs struct {
	RunID int64 `json:"run_id"`
}

func (workArgs) Kind() string { return "runs.work" }

type worker struct {
	river.WorkerDefaults[workArgs]
	r *Runner
}

func (w *worker) Timeout(*river.Job[workArgs]) time.Duration { return attemptTimeout }

func (w *worker) Work(ctx context.Context, job *river.Job[workArgs]) error {
	finished, err := w.r.attempt(ctx, job.Args.RunID, "job "+strconv.FormatInt(job.ID, 10), job.Attempt, job.MaxAttempts, 0)
	switch {
	case errors.Is(err, errHeld):
		// A live worker holds the run (a resumed run's job and the stuck one, rescued): look
		// again once it would have stalled; by then it finished, or died and this one goes on.
		return river.JobSnooze(models.RunStalledAfter)
	case err == nil && !finished:
		return river.JobSnooze(0) // the slice is over: the next one continues
	}
	return err
}

// Start inserts run (its account, kind, total, bounds and actor filled in) and its job in tx.
// While the account has an open run of the same kind it returns that run and ErrInProgress;
// an open run that has made no progress for a long time (its job is gone) is marked failed
// and replaced.
func (r *Runner) Start(ctx context.Context, tx *store.Store, run *models.Run) (*models.Run, error) {
	if _, ok := r.batches[run.Kind]; !ok {
		return nil, fmt.Errorf("runs: no handler for %q", run.Kind)
	}
	now := r.now()
	open, err := tx.OpenRun(ctx, run.AccountID, run.Kind)
	switch {
	case err == nil && now.Sub(open.UpdatedAt) < staleAfter:
		return open, ErrInProgress
	case err == nil:
		if err := tx.FailRun(ctx, open.ID, now, "stopped making progress; start again to continue"); err != nil {
			return nil, err
		}
	case !errors.Is(err, models.ErrNotFound):
		return nil, err
	}
	run.Status, run.CreatedAt, run.UpdatedAt = models.RunQueued, now, now
	if err := tx.CreateRun(ctx, run); err != nil {
		return nil, err // models.ErrConflict: another start won the race for the open run
	}
	if err := r.jobs.InsertTx(ctx, tx, workArgs{RunID: run.ID}, &river.InsertOpts{Queue: jobs.QueueRuns, MaxAttempts: maxAttempts}); err != nil {
		return nil, err
	}
	return run, nil
}

// Attempt is one attempt of a run's job (attempt of attempts), as the worker makes it: it
// commits batches until the run's batch says nothing is left, or the slice is over, or after
// maxBatches batches when that is positive (tests stop a run half-way this way, as a crash
// would).
func (r *Runner) Attempt(ctx context.Context, runID int64, attempt, attempts, maxBatches int) error {
	_, err := r.attempt(ctx, runID, "attempt "+strconv.Itoa(attempt), attempt, attempts, maxBatches)
	return err
}

// attempt is Attempt by worker (who holds the run while it works), and reports whether the run
// is finished (done, failed, or gone).
func (r *Runner) attempt(ctx context.Context, runID int64, worker string, attempt, attempts, maxBatches int) (finished bool, err error) {
	log := r.log.With("run_id", runID, "attempt", attempt)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error: %v", p)
		}
		if err != nil && !errors.Is(err, errGone) && !errors.Is(err, errHeld) {
			r.recordFailure(runID, attempt, attempts, err, log)
		}
	}()
	run, err := r.store.RunForWork(ctx, runID)
	if errors.Is(err, models.ErrNotFound) {
		return true, river.JobCancel(errGone)
	}
	if err != nil {
		return false, err
	}
	if !run.Open() {
		return true, nil // finished by an earlier attempt
	}
	batch, ok := r.batches[run.Kind]
	if !ok {
		return false, fmt.Errorf("runs: no handler for %q", run.Kind)
	}
	start := r.now()
	err = r.store.BeginRunAttempt(ctx, run.ID, worker, start, start.Add(-models.RunStalledAfter))
	if errors.Is(err, models.ErrNotFound) {
		return false, errHeld
	}
	if err != nil {
		return false, err
	}
	ctx, stop := r.heartbeat(ctx, run.ID, worker, log)
	defer stop()
	for batches := 0; maxBatches <= 0 || batches < maxBatches; batches++ {
		if ctx.Err() != nil {
			return false, context.Cause(ctx) // errHeld: another worker took the run over
		}
		if r.now().Sub(start) >= sliceFor {
			return false, nil
		}
		var step Step
		err := r.store.Tx(ctx, func(tx *store.Store) error {
			var err error
			if step, err = batch(ctx, tx, run); err != nil || step.Done == 0 {
				return err
			}
			return tx.AddRunProgress(ctx, run.ID, step.Done, step.Affected, step.After)
		})
		if err != nil {
			return false, err
		}
		if step.Done == 0 {
			now := r.now()
			err := r.store.Tx(ctx, func(tx *store.Store) error {
				return tx.FinishRun(ctx, run.ID, now)
			})
			if err == nil {
				log.Info("run finished", "kind", run.Kind, "account_id", run.AccountID)
			}
			return err == nil, err
		}
		run.Done += step.Done
		run.Affected += step.Affected
		if step.After > 0 {
			run.AfterUserID = step.After
		}
	}
	return false, nil
}

// heartbeat says every heartbeatEvery that worker is alive and holds the run, until stop, which
// lets go of the run (an attempt that ends, unlike a worker that dies, is not stalled). When
// another worker took the run over, the attempt's context is cancelled.
func (r *Runner) heartbeat(ctx context.Context, runID int64, worker string, log *slog.Logger) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				err := r.store.HeartbeatRun(ctx, runID, worker, r.now())
				if errors.Is(err, models.ErrNotFound) {
					cancel(errHeld)
					return
				}
				if err != nil && ctx.Err() == nil {
					log.Warn("run heartbeat", "error", err)
				}
			}
		}
	}()
	return ctx, func() {
		cancel(nil)
		<-done
		release, end := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer end()
		if err := r.store.ReleaseRun(release, runID, worker); err != nil {
			log.Warn("letting go of a run", "error", err)
		}
	}
}

// recordFailure shows an attempt's error on the run: the run stays running while River has
// attempts left (the next one resumes), and is failed after the last.
func (r *Runner) recordFailure(runID int64, attempt, attempts int, err error, log *slog.Logger) {
	text := oneLine(err.Error())
	why := fmt.Sprintf("attempt %d of %d failed: %s", attempt, attempts, text)
	log.Warn("run attempt failed", "error", text)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = r.store.Tx(ctx, func(tx *store.Store) error {
		if attempt >= attempts {
			return tx.FailRun(ctx, runID, r.now(), why)
		}
		return tx.NoteRunError(ctx, runID, why)
	})
	if err != nil {
		log.Warn("saving a failed run", "error", err)
	}
}

// oneLine shortens an error for the page: one line, at most 300 bytes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}

// ErrNotStalled: the run is not stalled (it is working, waiting for a retry, or finished).
var ErrNotStalled = fmt.Errorf("%w: the run is not stalled", models.ErrConflict)

// Resume gives a stalled run of the admin's account a new job at once, which any instance's
// queue takes, instead of waiting for the queue to rescue the dead worker's job (within
// jobs.RescueAfter); that job, once rescued, finds the run held or finished. It writes a Run
// Resumed event.
func (r *Runner) Resume(ctx context.Context, admin *models.Admin, runID int64, ip string) (*models.Run, error) {
	var run *models.Run
	err := r.store.Tx(ctx, func(tx *store.Store) error {
		var err error
		if run, err = tx.Run(ctx, admin.AccountID, runID); err != nil {
			return err
		}
		if !run.Stalled(r.now()) {
			return ErrNotStalled
		}
		if err := r.jobs.InsertTx(ctx, tx, workArgs{RunID: run.ID}, &river.InsertOpts{Queue: jobs.QueueRuns, MaxAttempts: maxAttempts}); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.NewEvent(&run.AccountID, models.EventAdmin, models.SubRunResumed, models.AdminActor(admin, ip), "",
			map[string]string{"run": strconv.FormatInt(run.ID, 10), "kind": string(run.Kind), "done": fmt.Sprintf("%d of %d", run.Done, run.Total)}))
	})
	return run, err
}
