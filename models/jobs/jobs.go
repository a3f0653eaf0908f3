// Package jobs owns the one River client of the process: every background job (mail delivery,
// the runs of bulk work, the expiry of registration codes) runs on it. It is built before the
// services that enqueue; each service registers its workers while it is constructed, inserts its
// jobs in the transaction of the change that causes them, and main starts the client once every
// service is wired and stops it after HTTP and before the database.
//
// There is one client per database on purpose: River's rescuer discards a stuck job whose kind
// its own client has no worker for, so a second client would throw away the first one's jobs.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"onramp/migrations"
	"onramp/models/metrics"
	"onramp/models/store"
)

// The queues, each with its own workers, so that mail never waits behind bulk work. The names
// are stored with every job: renaming one strands the jobs already queued under the old name.
const (
	QueueMail  = "mail"  // delivery of email (models/mail)
	QueueRuns  = "runs"  // bulk work in batches (models/runs)
	QueueCodes = "codes" // the expiry of registration codes (models/codes)
	// QueueMaintenance is housekeeping, such as the purge of expired sessions.
	QueueMaintenance = "maintenance"
	// QueueStream is event streaming: a delivery job per destination (models/stream).
	QueueStream = "stream"
)

// RescueAfter is how long a job may stay running before River's rescuer (on the leader, every
// 30 seconds) deems its worker dead, the process killed, and schedules the job again. River's
// default is an hour: a run or a mail stopped by a crash would wait that long.
const RescueAfter = 5 * time.Minute

// JobTimeout bounds an attempt of a job whose worker sets no Timeout of its own: its context is
// cancelled then, and the attempt fails and is retried. Every timeout is shorter than
// RescueAfter (AddWorker checks), so that the rescuer never takes a live job for a dead one
// and runs it twice at once.
const JobTimeout = time.Minute

// QuietInterval is how often the same warning or error of River is logged at most: while the
// database is down, once a minute is enough to say it still is.
const QuietInterval = time.Minute

// Config tunes the client.
type Config struct {
	// PollInterval is how often queues look for due jobs; 0 means one second.
	PollInterval time.Duration
	// RetryDelay replaces River's exponential backoff (attempt⁴ seconds) by a fixed delay.
	// Tests use a few milliseconds; production leaves it 0.
	RetryDelay time.Duration
	Logger     *slog.Logger
	// Metrics counts the failed attempts of each kind of job.
	Metrics *metrics.Metrics
}

// Jobs is the River client with its workers.
type Jobs struct {
	client  *river.Client[*sql.Tx]
	workers *river.Workers
}

// New builds the client over the store's database, with no worker yet: services add theirs
// with AddWorker before Start.
func New(s *store.Store, cfg Config) (*Jobs, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	poll := cfg.PollInterval
	if poll <= 0 {
		poll = time.Second
	}
	j := &Jobs{workers: river.NewWorkers()}
	rc := &river.Config{
		Queues: map[string]river.QueueConfig{QueueMail: {MaxWorkers: 4}, QueueRuns: {MaxWorkers: 4}, QueueCodes: {MaxWorkers: 2},
			QueueMaintenance: {MaxWorkers: 1}, QueueStream: {MaxWorkers: 4}},
		Workers:           j.workers,
		FetchPollInterval: poll,
		FetchCooldown:     min(poll, 100*time.Millisecond),
		// Jobs still running at shutdown get this long, then their context is cancelled and
		// River tries them again after the restart.
		SoftStopTimeout:      10 * time.Second,
		JobTimeout:           JobTimeout,
		RescueStuckJobsAfter: RescueAfter,
		Logger:               slog.New(newQuiet(log.Handler(), QuietInterval)),
		Middleware:           []rivertype.Middleware{countFailures(cfg.Metrics)},
	}
	if cfg.RetryDelay > 0 {
		rc.RetryPolicy = fixedDelay(cfg.RetryDelay)
	}
	// On PostgreSQL the queues also LISTEN: a job committed by any server is picked up at once,
	// and the poll is the fallback (while the listening connection is down, say).
	var listen *pgxpool.Pool
	if s.Dialect() == migrations.Postgres {
		var err error
		if listen, err = s.ListenPool(); err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
	}
	client, err := river.NewClient(migrations.RiverDriver(s.SQLDB(), s.Dialect(), listen), rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	j.client = client
	return j, nil
}

// countFailures counts every failed attempt of a job by its kind. A snooze (a run's slice
// ending, to go on in the next) is not a failure.
func countFailures(m *metrics.Metrics) rivertype.Middleware {
	return river.WorkerMiddlewareFunc(func(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
		err := doInner(ctx)
		if snooze := (*river.JobSnoozeError)(nil); err != nil && !errors.As(err, &snooze) {
			m.JobFailed(job.Kind)
		}
		return err
	})
}

// fixedDelay is a retry policy without backoff, for tests.
type fixedDelay time.Duration

func (d fixedDelay) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(time.Duration(d)) }

// AddWorker registers the worker of a job kind. Call it while wiring, before Start (River reads
// its workers once started); a kind registered twice, or a worker whose Timeout does not fit
// in the rescue window, panics, as a wiring mistake should.
func AddWorker[T river.JobArgs](j *Jobs, w river.Worker[T]) {
	var args T
	if t := w.Timeout(&river.Job[T]{JobRow: &rivertype.JobRow{}, Args: args}); t < 0 || t >= RescueAfter {
		panic(fmt.Sprintf("jobs: %s: a timeout of %s does not fit in the rescue window (%s)", args.Kind(), t, RescueAfter))
	}
	river.AddWorker(j.workers, w)
}

// Every schedules a periodic job: River's leader inserts it, so one server runs it at a time
// however many there are, and a failed run is retried like any job. With runOnStart it also
// runs as soon as the client starts.
func (j *Jobs) Every(id string, interval time.Duration, args river.JobArgs, opts *river.InsertOpts, runOnStart bool) {
	j.client.PeriodicJobs().Add(river.NewPeriodicJob(river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return args, opts },
		&river.PeriodicJobOpts{ID: id, RunOnStart: runOnStart}))
}

// InsertTx inserts a job in tx, the caller's transaction: the job exists if and only if the
// change that caused it commits.
func (j *Jobs) InsertTx(ctx context.Context, tx *store.Store, args river.JobArgs, opts *river.InsertOpts) error {
	sqlTx, ok := tx.SQLTx()
	if !ok {
		return fmt.Errorf("jobs: %s inserted outside a transaction", args.Kind())
	}
	if _, err := j.client.InsertTx(ctx, sqlTx, args, opts); err != nil {
		return fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return nil
}

// Insert inserts a job on its own, outside any transaction: a kick of work whose data is
// committed already. A unique job that exists already is not inserted again: the result says
// so (UniqueSkippedAsDuplicate) and holds that job.
func (j *Jobs) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	res, err := j.client.Insert(ctx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return res, nil
}

// insertBatch is how many jobs one statement of InsertManyTx carries.
const insertBatch = 1000

// InsertManyTx inserts jobs in tx (see InsertTx), a thousand per statement.
func (j *Jobs) InsertManyTx(ctx context.Context, tx *store.Store, jobs []river.InsertManyParams) error {
	sqlTx, ok := tx.SQLTx()
	if !ok {
		return errors.New("jobs: jobs inserted outside a transaction")
	}
	for start := 0; start < len(jobs); start += insertBatch {
		if _, err := j.client.InsertManyTx(ctx, sqlTx, jobs[start:min(start+insertBatch, len(jobs))]); err != nil {
			return fmt.Errorf("jobs: insert: %w", err)
		}
	}
	return nil
}

// Start begins working jobs in the background, until Stop.
func (j *Jobs) Start(ctx context.Context) error {
	// Only Stop ends the client: a cancelled request or test context must not.
	return j.client.Start(context.WithoutCancel(ctx))
}

// Stop waits for the jobs in progress, cancelling them when ctx ends first (River tries them
// again after a restart). Call it before the database closes.
func (j *Jobs) Stop(ctx context.Context) error {
	err := j.client.Stop(ctx)
	if err != nil && ctx.Err() != nil {
		hard, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = errors.Join(err, j.client.StopAndCancel(hard))
	}
	return err
}
