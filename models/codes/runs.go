package codes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"onramp/models"
	"onramp/models/store"
)

// "Generate for new users" gives every enabled user that never had a code one code. A hundred
// thousand users take longer than a request should, so a click records a run (a row the Client
// Access page shows) and inserts a River job in the same transaction; the job commits a batch
// of users per transaction, each with its codes, events, counters and the run's progress. A
// user's had_code flips in the transaction that creates their code, so a run that stops
// (crash, restart, error) and starts again continues with the users still without a code and
// never gives anyone two. A run that fails for good says so, with how far it got; clicking
// again continues from there.

// queueName is the River queue of the codes jobs (beside mail's, on the same client).
const queueName = "codes"

// runMaxAttempts is how many times the job of a run is tried. Each attempt resumes where the
// last one stopped, so retrying costs nothing; after the last the run is marked failed.
const runMaxAttempts = 5

// runTimeout bounds one attempt. A timed-out attempt is retried and resumes.
const runTimeout = time.Hour

// staleAfter is how long an open run may go without progress before a new click may replace
// it: longer than an attempt's timeout plus River's rescue of a job whose worker died.
const staleAfter = 2*runTimeout + 10*time.Minute

// Errors of StartRun.
var (
	// ErrNothingToGenerate: every enabled user of the account has or had a code.
	ErrNothingToGenerate = errors.New("every enabled user has or had a registration code")
	// ErrRunInProgress: the account already has a run queued or running.
	ErrRunInProgress = fmt.Errorf("%w: a code generation is already in progress", models.ErrConflict)
)

type generateArgs struct {
	RunID int64 `json:"run_id"`
}

func (generateArgs) Kind() string { return "codes.generate_for_new_users" }

type generateWorker struct {
	river.WorkerDefaults[generateArgs]
	s *Service
}

func (w *generateWorker) Timeout(*river.Job[generateArgs]) time.Duration { return runTimeout }

func (w *generateWorker) Work(ctx context.Context, job *river.Job[generateArgs]) error {
	return w.s.work(ctx, job.Args.RunID, job.Attempt, job.MaxAttempts, 0)
}

type expireArgs struct{}

func (expireArgs) Kind() string { return "codes.expire" }

type expireWorker struct {
	river.WorkerDefaults[expireArgs]
	s *Service
}

func (w *expireWorker) Work(ctx context.Context, _ *river.Job[expireArgs]) error {
	n, err := w.s.ExpireCodes(ctx)
	if n > 0 {
		w.s.log.Info("wiped the encrypted copies of expired registration codes", "count", n)
	}
	return err
}

// RegisterJobs adds the generation and expiry workers to the shared River client (see
// mail.Config.Jobs) and schedules the expiry job. Expiry is a River periodic job rather than a
// ticker of each server: River's leader inserts it, so one server runs it at a time however
// many there are, and a failed run is retried like any job.
func (s *Service) RegisterJobs(w *river.Workers) (map[string]river.QueueConfig, []*river.PeriodicJob) {
	river.AddWorker(w, &generateWorker{s: s})
	river.AddWorker(w, &expireWorker{s: s})
	expire := river.NewPeriodicJob(river.PeriodicInterval(s.expiryEvery),
		func() (river.JobArgs, *river.InsertOpts) {
			return expireArgs{}, &river.InsertOpts{Queue: queueName, MaxAttempts: 3}
		},
		&river.PeriodicJobOpts{ID: "codes.expire", RunOnStart: true})
	return map[string]river.QueueConfig{queueName: {MaxWorkers: 4}}, []*river.PeriodicJob{expire}
}

// Overview is the User Provisioning section of the Client Access page.
type Overview struct {
	Account  *models.Account
	NewUsers int64                     // enabled users that never had a code
	Latest   *models.CodeGenerationRun // nil before the first run
}

// Overview reads the section's figures for the actor's account.
func (s *Service) Overview(ctx context.Context, actor *models.Admin) (Overview, error) {
	account, err := s.store.Account(ctx, actor.AccountID)
	if err != nil {
		return Overview{}, err
	}
	n, err := s.store.CountUsersWithoutCode(ctx, actor.AccountID)
	if err != nil {
		return Overview{}, err
	}
	ov := Overview{Account: account, NewUsers: n}
	ov.Latest, err = s.store.LatestRun(ctx, actor.AccountID)
	if errors.Is(err, models.ErrNotFound) {
		err = nil
	}
	return ov, err
}

// CountNewUsers counts the enabled users of the actor's account that never had a code: the N
// of the warning "A code will be generated for all N users that never had a code".
func (s *Service) CountNewUsers(ctx context.Context, actor *models.Admin) (int64, error) {
	return s.store.CountUsersWithoutCode(ctx, actor.AccountID)
}

// Run returns a run of the actor's account.
func (s *Service) Run(ctx context.Context, actor *models.Admin, id int64) (*models.CodeGenerationRun, error) {
	return s.store.Run(ctx, actor.AccountID, id)
}

// StartRun starts "Generate for new users" for the actor's account: the run and its job are
// inserted in one transaction. With a run already open it returns that run and
// ErrRunInProgress; with nobody to give a code to, ErrNothingToGenerate.
func (s *Service) StartRun(ctx context.Context, actor *models.Admin, ip string) (*models.CodeGenerationRun, error) {
	if actor.Role != models.RoleAdmin {
		return nil, models.ErrForbidden
	}
	if s.queue == nil {
		return nil, errors.New("codes: no job queue (UseQueue was not called)")
	}
	now := s.now()
	who := models.AdminActor(actor, ip)
	var run, open *models.CodeGenerationRun
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		open = nil
		o, err := tx.OpenRun(ctx, actor.AccountID)
		if err == nil {
			open = o
			if now.Sub(open.UpdatedAt) < staleAfter {
				return ErrRunInProgress
			}
			// Its job is gone (discarded by hand, say): say so rather than block the account.
			if err := tx.UpdateRun(ctx, open.ID, map[string]any{"status": models.RunFailed, "finished_at": now,
				"error": "stopped making progress; a new run continues with the users still without a code"}); err != nil {
				return err
			}
			open = nil
		} else if !errors.Is(err, models.ErrNotFound) {
			return err
		}
		n, err := tx.CountUsersWithoutCode(ctx, actor.AccountID)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrNothingToGenerate
		}
		maxID, err := tx.MaxUserID(ctx, actor.AccountID)
		if err != nil {
			return err
		}
		run = &models.CodeGenerationRun{AccountID: actor.AccountID, Status: models.RunQueued, Total: int(n), MaxUserID: maxID,
			AdminID: who.ID, ActorType: who.Type, ActorLabel: who.Label, SourceIP: ip, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateRun(ctx, run); err != nil {
			if errors.Is(err, models.ErrConflict) {
				return ErrRunInProgress // another click won the race for the account's one open run
			}
			return err
		}
		sqlTx, ok := tx.SQLTx()
		if !ok {
			return errors.New("codes: StartRun outside a transaction")
		}
		if _, err := s.queue.InsertTx(ctx, sqlTx, generateArgs{RunID: run.ID},
			&river.InsertOpts{Queue: queueName, MaxAttempts: runMaxAttempts}); err != nil {
			return fmt.Errorf("codes: queue the run: %w", err)
		}
		return nil
	})
	if errors.Is(err, ErrRunInProgress) {
		if open == nil { // lost the race to another click: show the winner's run
			open, _ = s.store.OpenRun(ctx, actor.AccountID)
		}
		return open, ErrRunInProgress
	}
	if err != nil {
		return nil, err
	}
	s.log.Info("registration code generation queued", "run_id", run.ID, "account_id", run.AccountID, "users", run.Total)
	return run, nil
}

// work is one attempt of a run's job: it commits batches until no user of the run is left
// without a code, or after maxBatches batches when that is positive (tests stop a run half-way
// this way, as a crash would).
func (s *Service) work(ctx context.Context, runID int64, attempt, maxAttempts, maxBatches int) (err error) {
	log := s.log.With("run_id", runID, "attempt", attempt)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error: %v", p)
		}
		if err != nil && !errors.Is(err, errRunGone) {
			s.recordFailure(runID, attempt, maxAttempts, err, log)
		}
	}()
	run, err := s.store.RunForWork(ctx, runID)
	if errors.Is(err, models.ErrNotFound) {
		return river.JobCancel(errRunGone) // its account was deleted
	}
	if err != nil {
		return err
	}
	if !run.Open() {
		return nil // finished by an earlier attempt
	}
	cols := map[string]any{"status": models.RunRunning, "error": ""} // an earlier attempt's error is behind us
	if run.StartedAt == nil {
		cols["started_at"] = s.now()
	}
	if err := s.store.Tx(ctx, func(tx *store.Store) error { return tx.UpdateRun(ctx, run.ID, cols) }); err != nil {
		return err
	}
	who := run.Actor()
	for batches := 0; maxBatches <= 0 || batches < maxBatches; batches++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var n int
		err := s.store.Tx(ctx, func(tx *store.Store) error {
			// Read per batch: an expiry changed meanwhile applies to the codes generated after it.
			account, err := tx.Account(ctx, run.AccountID)
			if err != nil {
				return err
			}
			us, err := tx.UsersWithoutCode(ctx, run.AccountID, run.MaxUserID, batchSize)
			if err != nil || len(us) == 0 {
				return err
			}
			n = len(us)
			if err := s.issue(ctx, tx, account, us, models.GeneratedByBulk, who); err != nil {
				return err
			}
			return tx.AddRunProgress(ctx, run.ID, n)
		})
		if err != nil {
			return err
		}
		if n == 0 {
			now := s.now()
			err := s.store.Tx(ctx, func(tx *store.Store) error {
				return tx.UpdateRun(ctx, run.ID, map[string]any{"status": models.RunDone, "finished_at": now, "error": ""})
			})
			if err == nil {
				log.Info("registration code generation finished", "account_id", run.AccountID)
			}
			return err
		}
	}
	return nil
}

// errRunGone is a job whose run no longer exists (its account was deleted).
var errRunGone = errors.New("codes: the run no longer exists")

// recordFailure shows an attempt's error on the run: the run stays running while River has
// attempts left (the next one resumes), and is failed after the last.
func (s *Service) recordFailure(runID int64, attempt, maxAttempts int, err error, log *slog.Logger) {
	text := oneLine(err.Error())
	cols := map[string]any{"error": fmt.Sprintf("attempt %d of %d failed: %s", attempt, maxAttempts, text)}
	if attempt >= maxAttempts {
		cols["status"] = models.RunFailed
		cols["finished_at"] = s.now()
	}
	log.Warn("registration code generation attempt failed", "error", text)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.store.Tx(ctx, func(tx *store.Store) error { return tx.UpdateRun(ctx, runID, cols) }); err != nil {
		log.Warn("saving a failed registration code generation", "error", err)
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

// NewUsersWarning is the warning before "Generate for new users" (SPEC §5), n being the exact
// count of CountNewUsers.
func NewUsersWarning(n int64) string {
	if n == 1 {
		return "A code will be generated for the 1 user that never had a code."
	}
	return fmt.Sprintf("A code will be generated for all %d users that never had a code.", n)
}
