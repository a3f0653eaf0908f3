package users

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"onramp/models"
	"onramp/models/codes"
	"onramp/models/runs"
	"onramp/models/store"
)

// InRequestLimit is the largest selection acted on in the request, in one transaction: a
// thousand users take well under a second. "All users matching the filter" over more than
// that becomes a run: a batch of users per transaction in the background, resumable, with its
// progress on a page, so that a hundred thousand users never hang a request (nor roll back
// when a proxy gives up on it).
const InRequestLimit = batchSize

// ErrActionInProgress: the account already has an action running in the background.
var ErrActionInProgress = fmt.Errorf("%w: another action on many users is still running", runs.ErrInProgress)

// Outcome is what confirming an action did: Result when it ran in the request, or the Run that
// does it in the background.
type Outcome struct {
	Result Result
	Run    *models.Run
}

// Perform runs a confirmed action over a selection: in the request and all-or-nothing (Bulk)
// for up to a thousand users, as a background run for more. With a run already open it
// returns that run and ErrActionInProgress.
func (s *Service) Perform(ctx context.Context, actor *models.Admin, ip string, a Action, sel Selection) (Outcome, error) {
	if !a.Valid() {
		return Outcome{}, models.NewValidationError("action", "Choose an action.")
	}
	if !a.Allowed(actor.Role) {
		return Outcome{}, models.ErrForbidden
	}
	if sel.All {
		n, err := s.store.CountUsers(ctx, actor.AccountID, sel.Filter.storeFilter())
		if err != nil {
			return Outcome{}, err
		}
		if n > InRequestLimit {
			run, err := s.start(ctx, actor, ip, a, sel.Filter, n)
			return Outcome{Run: run}, err
		}
	}
	res, err := s.Bulk(ctx, actor, ip, a, sel)
	return Outcome{Result: res}, err
}

// start records the run of an action over the n users matching f, and queues its job.
func (s *Service) start(ctx context.Context, actor *models.Admin, ip string, a Action, f Filter, n int64) (*models.Run, error) {
	f.Sort = "" // runs go in id order
	filter, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	who := models.AdminActor(actor, ip)
	var run *models.Run
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		maxID, err := tx.MaxUserID(ctx, actor.AccountID)
		if err != nil {
			return err
		}
		run, err = s.runs.Start(ctx, tx, &models.Run{AccountID: actor.AccountID, Kind: models.RunUserAction, Action: string(a),
			// AdminID is an admin (an API token's owner, not the token: who.ID), as the handout's.
			Filter: string(filter), Total: int(n), MaxUserID: maxID, AdminID: &actor.ID, ActorType: who.Type, ActorLabel: who.Label, SourceIP: ip})
		if err != nil || !a.HandsOutCodes() {
			return err
		}
		// The run's codes go to its admin's handout, for the CSV of the codes just generated.
		_, err = s.codes.NewHandout(ctx, tx, actor, &run.ID, a == ActionEmailCode)
		return err
	})
	switch {
	case errors.Is(err, runs.ErrInProgress):
		return run, ErrActionInProgress
	case errors.Is(err, models.ErrConflict): // another admin's start won the race
		run, _ = s.store.OpenRun(ctx, actor.AccountID, models.RunUserAction)
		return run, ErrActionInProgress
	}
	return run, err
}

// OpenRun returns the action of the actor's account running in the background, or nil, for
// showing: it may be a few seconds old (store.ShownOpenRun).
func (s *Service) OpenRun(ctx context.Context, actor *models.Admin) (*models.Run, error) {
	return s.store.ShownOpenRun(ctx, actor.AccountID, models.RunUserAction)
}

// Run returns a background action of the actor's account.
func (s *Service) Run(ctx context.Context, actor *models.Admin, id int64) (*models.Run, error) {
	run, err := s.store.Run(ctx, actor.AccountID, id)
	if err == nil && run.Kind != models.RunUserAction {
		return nil, models.ErrNotFound
	}
	return run, err
}

// actionBatch applies a run's action to the next batch of its users: those matching its
// filter now, after the last one done, and no newer than the run.
func (s *Service) actionBatch(ctx context.Context, tx *store.Store, run *models.Run) (runs.Step, error) {
	var f Filter
	if err := json.Unmarshal([]byte(run.Filter), &f); err != nil {
		return runs.Step{}, fmt.Errorf("users: the run's filter: %w", err)
	}
	a := Action(run.Action)
	size := batchSize
	if a == ActionGenerateCode {
		size = s.codes.RunBatch() // a few statements whatever the batch: see IssueForUserIDs
	}
	ids, err := tx.UserIDsMatching(ctx, run.AccountID, f.storeFilter(), run.AfterUserID, size)
	if err != nil {
		return runs.Step{}, err
	}
	for i, id := range ids { // ascending: the rest are newer than the run too
		if id > run.MaxUserID {
			ids = ids[:i]
			break
		}
	}
	if len(ids) == 0 {
		return runs.Step{}, nil
	}
	account, err := tx.Account(ctx, run.AccountID)
	if err != nil {
		return runs.Step{}, err
	}
	var handout *int64
	if a.HandsOutCodes() {
		// A run started before handouts existed has none: its codes go to the full CSV only.
		switch h, err := tx.HandoutForRun(ctx, run.AccountID, run.ID); {
		case err == nil:
			handout = &h.ID
		case !errors.Is(err, models.ErrNotFound):
			return runs.Step{}, err
		}
	}
	var r Result
	if a == ActionGenerateCode {
		// No user is read but by the locks of those who get a code.
		c, err := s.codes.IssueForUserIDs(ctx, tx, account, ids, codes.Issue{Who: run.Actor(), HandoutID: handout})
		if err != nil {
			return runs.Step{}, err
		}
		r.Affected = c.Generated
	} else {
		us, err := tx.UsersByIDs(ctx, run.AccountID, ids)
		if err != nil {
			return runs.Step{}, err
		}
		if r, err = s.apply(ctx, tx, account, a, us, run.Actor(), handout); err != nil {
			return runs.Step{}, err
		}
	}
	// Done counts the ids walked, so that users deleted meanwhile by someone else still move
	// the run on.
	return runs.Step{Done: len(ids), Affected: r.Affected, After: ids[len(ids)-1]}, nil
}
