package codes

import (
	"context"
	"errors"
	"fmt"

	"github.com/riverqueue/river"

	"onramp/models"
	"onramp/models/jobs"
	"onramp/models/runs"
	"onramp/models/store"
)

// "Generate for new users" gives every enabled user that never had a code one code. A hundred
// thousand users take longer than a request should, so a click starts a run (models/runs): the
// Client Access page shows its progress, and its job commits a batch of users (RunBatch) per
// transaction, in id order, each with its codes, events and the run's progress (its last user
// among them). A user "had a code" from the commit of the transaction that creates it, and each
// batch locks its users before it looks for their codes (store.ClaimUsersWithoutCode), so a run
// that stops and starts again continues after its last committed batch with the users still
// without a code, and never gives anyone two.

// Errors of StartRun.
var (
	// ErrNothingToGenerate: every enabled user of the account has or had a code.
	ErrNothingToGenerate = errors.New("every enabled user has or had a registration code")
	// ErrRunInProgress: the account already has a run queued or running.
	ErrRunInProgress = fmt.Errorf("%w: a code generation is already in progress", runs.ErrInProgress)
)

type expireArgs struct{}

func (expireArgs) Kind() string { return "codes.expire" }

type expireWorker struct {
	river.WorkerDefaults[expireArgs]
	s *Service
}

func (w *expireWorker) Work(ctx context.Context, _ *river.Job[expireArgs]) error {
	warned, err := w.s.WarnExpiringCodes(ctx)
	if warned > 0 {
		w.s.log.Info("registration codes expire within a day unused", "count", warned)
	}
	if err != nil {
		return err
	}
	n, err := w.s.ExpireCodes(ctx)
	if n > 0 {
		w.s.log.Info("wiped the encrypted copies of expired registration codes", "count", n)
	}
	return err
}

// registerJobs adds the expiry worker and schedules it. Expiry is a periodic job rather than a
// ticker of each server: one server runs it at a time however many there are, and a failed run
// is retried like any job.
func (s *Service) registerJobs(j *jobs.Jobs) {
	jobs.AddWorker(j, &expireWorker{s: s})
	j.Every("codes.expire", s.expiryEvery, expireArgs{}, &river.InsertOpts{Queue: jobs.QueueCodes, MaxAttempts: 3}, true)
}

// Overview is the User Provisioning section of the Client Access page.
type Overview struct {
	Account    *models.Account
	NewUsers   int64       // enabled users without MFA that never had a code
	SkippedMFA int64       // enabled users with MFA that never had a code (codes do not support MFA)
	Latest     *models.Run // nil before the first run
}

// Overview reads the section's figures for the actor's account.
func (s *Service) Overview(ctx context.Context, actor *models.Admin) (Overview, error) {
	account, err := s.store.Account(ctx, actor.AccountID)
	if err != nil {
		return Overview{}, err
	}
	ov := Overview{Account: account}
	// The run before the counts: a run read as done has its codes committed, so the counts
	// read after it include them. In the other order a run that ended in between showed as
	// done beside the counts from before it (and its page, done, is not reloaded).
	ov.Latest, err = s.store.LatestRun(ctx, actor.AccountID, models.RunGenerateCodes)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return Overview{}, err
	}
	if ov.NewUsers, ov.SkippedMFA, err = s.store.CountUsersWithoutCodeByMFA(ctx, actor.AccountID); err != nil {
		return Overview{}, err
	}
	return ov, nil
}

// CountNewUsers counts the enabled users of the actor's account that never had a code: the N
// of the warning "A code will be generated for all N users that never had a code".
func (s *Service) CountNewUsers(ctx context.Context, actor *models.Admin) (int64, error) {
	return s.store.CountUsersWithoutCode(ctx, actor.AccountID)
}

// Run returns a generation run of the actor's account.
func (s *Service) Run(ctx context.Context, actor *models.Admin, id int64) (*models.Run, error) {
	run, err := s.store.Run(ctx, actor.AccountID, id)
	if err == nil && run.Kind != models.RunGenerateCodes {
		return nil, models.ErrNotFound
	}
	return run, err
}

// StartRun starts "Generate for new users" for the actor's account: the run and its job are
// inserted in one transaction. With a run already open it returns that run and
// ErrRunInProgress; with nobody to give a code to, ErrNothingToGenerate.
func (s *Service) StartRun(ctx context.Context, actor *models.Admin, ip string) (*models.Run, error) {
	if actor.Role != models.RoleAdmin {
		return nil, models.ErrForbidden
	}
	who := models.AdminActor(actor, ip)
	var run *models.Run
	err := s.store.Tx(ctx, func(tx *store.Store) error {
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
		run, err = s.runs.Start(ctx, tx, &models.Run{AccountID: actor.AccountID, Kind: models.RunGenerateCodes, Total: int(n), MaxUserID: maxID,
			AdminID: who.ID, ActorType: who.Type, ActorLabel: who.Label, SourceIP: ip})
		return err
	})
	switch {
	case errors.Is(err, runs.ErrInProgress):
		if run == nil { // lost the race to another click: show the winner's run
			run, _ = s.store.OpenRun(ctx, actor.AccountID, models.RunGenerateCodes)
		}
		return run, ErrRunInProgress
	case errors.Is(err, models.ErrConflict):
		run, _ = s.store.OpenRun(ctx, actor.AccountID, models.RunGenerateCodes)
		return run, ErrRunInProgress
	case err != nil:
		return nil, err
	}
	s.log.Info("registration code generation queued", "run_id", run.ID, "account_id", run.AccountID, "users", run.Total)
	return run, nil
}

// generateBatch gives the next batch of the run's users without a code one code each.
func (s *Service) generateBatch(ctx context.Context, tx *store.Store, run *models.Run) (runs.Step, error) {
	// Read per batch: an expiry changed meanwhile applies to the codes generated after it.
	account, err := tx.Account(ctx, run.AccountID)
	if err != nil {
		return runs.Step{}, err
	}
	// In id order from the last batch's last user: each batch reads only the users it takes.
	taken, ids, err := tx.ClaimUsersWithoutCode(ctx, run.AccountID, run.AfterUserID, run.MaxUserID, s.runBatch)
	if err != nil || len(taken) == 0 {
		return runs.Step{}, err
	}
	if _, err := s.insert(ctx, tx, account, ids, models.GeneratedByBulk, Issue{Who: run.Actor()}); err != nil {
		return runs.Step{}, err
	}
	return runs.Step{Done: len(taken), Affected: len(ids), After: taken[len(taken)-1]}, nil
}

// NewUsersWarning is the warning before "Generate for new users", n being the exact
// count of CountNewUsers.
func NewUsersWarning(n int64) string {
	if n == 1 {
		return "A code will be generated for the 1 user that never had a code."
	}
	return fmt.Sprintf("A code will be generated for all %d users that never had a code.", n)
}
