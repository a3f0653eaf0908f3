// Package retention owns data retention (Settings > Data Retention, docs/admin-guide.md): how
// long each account keeps its events and the bodies of its sent mail, and the periodic job that
// deletes older events and empties older bodies, keeping each message's metadata. The job works
// in batches (Batch rows per statement, each in a short transaction of its own), so that it
// never holds locks for long, and records what it purged in an event of the account.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"onramp/models"
	"onramp/models/jobs"
	"onramp/models/store"
)

// Batch is how many rows one statement deletes or empties.
const Batch = 5000

// purgeEvery is how often the job runs: retention is counted in days, an hour late is nothing.
const purgeEvery = time.Hour

// sliceTime is how long one attempt of the job works before it lets the queue run it again to
// go on (a first run over years of events takes many slices): well inside the job's timeout.
const sliceTime = 30 * time.Second

// accountsPerRead is how many accounts the job reads at a time.
const accountsPerRead = 100

// Settings is the form of the Data Retention page.
type Settings struct {
	EventDays    int
	MailBodyDays int
}

// FromAccount reads an account's settings.
func FromAccount(a *models.Account) Settings {
	return Settings{EventDays: a.EventRetentionDays, MailBodyDays: a.MailBodyRetentionDays}
}

// Validate checks the limits of each setting.
func (s Settings) Validate() error {
	v := &models.ValidationError{}
	if s.EventDays < models.MinEventRetentionDays || s.EventDays > models.MaxEventRetentionDays {
		v.Add("event_retention_days", fmt.Sprintf("Keep events from %d to %d days.", models.MinEventRetentionDays, models.MaxEventRetentionDays))
	}
	if s.MailBodyDays < models.MinMailBodyRetentionDays || s.MailBodyDays > models.MaxMailBodyRetentionDays {
		v.Add("mail_body_retention_days", fmt.Sprintf("Keep the bodies of sent mail from %d to %d days.",
			models.MinMailBodyRetentionDays, models.MaxMailBodyRetentionDays))
	}
	return v.OrNil()
}

// Service reads and saves the settings, and purges.
type Service struct {
	store *store.Store
	now   func() time.Time
	batch int
	log   *slog.Logger
}

// New builds the service and schedules its job on j, every hour.
func New(s *store.Store, j *jobs.Jobs, log *slog.Logger) *Service {
	svc := &Service{store: s, now: func() time.Time { return time.Now().UTC() }, batch: Batch, log: log}
	jobs.AddWorker(j, &purgeWorker{svc: svc})
	j.Every("retention.purge", purgeEvery, purgeArgs{}, &river.InsertOpts{Queue: jobs.QueueMaintenance, MaxAttempts: 3}, false)
	return svc
}

// WithClock replaces the clock (tests).
func (s *Service) WithClock(now func() time.Time) *Service { s.now = now; return s }

// WithBatch replaces how many rows a statement purges (tests, to see several batches).
func (s *Service) WithBatch(n int) *Service { s.batch = n; return s }

// Get returns the settings of the actor's account.
func (s *Service) Get(ctx context.Context, actor *models.Admin) (Settings, error) {
	a, err := s.store.Account(ctx, actor.AccountID)
	if err != nil {
		return Settings{}, err
	}
	return FromAccount(a), nil
}

// Save validates and stores new settings, records what changed in a Settings Changed event,
// and reports whether anything did. Only admins change them.
func (s *Service) Save(ctx context.Context, actor *models.Admin, ip string, next Settings) (bool, error) {
	if actor.Role != models.RoleAdmin {
		return false, models.ErrForbidden
	}
	if err := next.Validate(); err != nil {
		return false, err
	}
	changed := false
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		a, err := tx.LockAccount(ctx, actor.AccountID)
		if err != nil {
			return err
		}
		diff := map[string]string{}
		for name, d := range map[string][2]int{"event_retention": {a.EventRetentionDays, next.EventDays},
			"mail_body_retention": {a.MailBodyRetentionDays, next.MailBodyDays}} {
			if d[0] != d[1] {
				diff[name] = days(d[0]) + " → " + days(d[1])
			}
		}
		if len(diff) == 0 {
			return nil
		}
		changed = true
		a.EventRetentionDays, a.MailBodyRetentionDays = next.EventDays, next.MailBodyDays
		if err := tx.SaveRetention(ctx, a); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.NewEvent(&a.ID, models.EventAdmin, models.SubSettingsChanged,
			models.AdminActor(actor, ip), actor.Email, diff))
	})
	return changed, err
}

func days(n int) string { return models.Plural(int64(n), "day", "days") }

// Result counts what Purge did.
type Result struct {
	Events     int64 // events deleted
	MailBodies int64 // sent messages whose bodies were emptied
	// Done is false when the time given ran out first: what is left waits for the next call.
	Done bool
}

// Purge applies every account's retention as of now: their older events deleted, the bodies of
// their older sent mail emptied, each account's counts recorded in a Data Purged event; the
// events of no account are kept DefaultEventRetentionDays. Once budget has passed it starts no
// batch (after one that purged something: every call makes progress), and says it is not done.
func (s *Service) Purge(ctx context.Context, budget time.Duration) (Result, error) {
	p := &purge{svc: s, ctx: ctx, start: time.Now(), budget: budget}
	var res Result
	now := s.now()
	n, err := p.batches(func(tx *store.Store) (int64, error) {
		return tx.PurgeEvents(ctx, nil, cutoff(now, models.DefaultEventRetentionDays), s.batch)
	})
	res.Events += n
	if err != nil || !p.left() {
		return res, err
	}
	for after := int64(0); ; {
		accounts, err := s.store.AccountsAfter(ctx, after, accountsPerRead)
		if err != nil || len(accounts) == 0 {
			res.Done = err == nil
			return res, err
		}
		for i := range accounts {
			r, err := p.account(&accounts[i], now)
			res.Events, res.MailBodies = res.Events+r.Events, res.MailBodies+r.MailBodies
			if err != nil || !p.left() {
				return res, err
			}
		}
		after = accounts[len(accounts)-1].ID
	}
}

// atLeast is n days, or def when n is below the settings' minimum: a row that never went
// through the settings (an account written by hand, say) never means "keep nothing".
func atLeast(n, minimum, def int) int {
	if n < minimum {
		return def
	}
	return n
}

// cutoff is the moment before which what is kept for n days goes.
func cutoff(now time.Time, n int) time.Time { return now.AddDate(0, 0, -n) }

// purge is one call of Purge.
type purge struct {
	svc    *Service
	ctx    context.Context
	start  time.Time
	budget time.Duration
	purged int64 // rows purged so far
}

// left says whether to start another batch: while the budget lasts, or nothing was purged yet.
func (p *purge) left() bool { return p.purged == 0 || time.Since(p.start) < p.budget }

// batches runs one batch after another, each in its own transaction, until a batch is not
// full or the time is up, and adds up what they purged.
func (p *purge) batches(batch func(tx *store.Store) (int64, error)) (int64, error) {
	var total int64
	for {
		var n int64
		err := p.svc.store.Tx(p.ctx, func(tx *store.Store) (err error) {
			n, err = batch(tx)
			return err
		})
		total += n
		p.purged += n
		if err != nil || n < int64(p.svc.batch) || !p.left() {
			return total, err
		}
	}
}

// account purges one account and records what it purged, if anything.
func (p *purge) account(a *models.Account, now time.Time) (Result, error) {
	events := cutoff(now, atLeast(a.EventRetentionDays, models.MinEventRetentionDays, models.DefaultEventRetentionDays))
	mailBefore := cutoff(now, atLeast(a.MailBodyRetentionDays, models.MinMailBodyRetentionDays, models.DefaultMailBodyRetentionDays))
	var r Result
	var err error
	r.Events, err = p.batches(func(tx *store.Store) (int64, error) { return tx.PurgeEvents(p.ctx, &a.ID, events, p.svc.batch) })
	if err == nil && p.left() {
		r.MailBodies, err = p.batches(func(tx *store.Store) (int64, error) {
			return tx.PurgeMailBodies(p.ctx, a.ID, mailBefore, now, p.svc.batch)
		})
	}
	if r.Events == 0 && r.MailBodies == 0 {
		return r, err
	}
	details := map[string]string{
		"events_deleted": strconv.FormatInt(r.Events, 10), "events_before": events.Format(time.RFC3339),
		"mail_bodies_removed": strconv.FormatInt(r.MailBodies, 10), "mail_sent_before": mailBefore.Format(time.RFC3339),
	}
	// Recorded even when a batch failed: what was committed before it is gone all the same.
	e := models.NewEvent(&a.ID, models.EventAdmin, models.SubDataPurged, models.Actor{Type: models.ActorSystem, Label: "data retention"}, "", details)
	e.OccurredAt = now
	return r, errors.Join(err, p.svc.store.CreateEvent(context.WithoutCancel(p.ctx), e))
}

type purgeArgs struct{}

func (purgeArgs) Kind() string { return "retention.purge" }

type purgeWorker struct {
	river.WorkerDefaults[purgeArgs]
	svc *Service
}

// Timeout leaves the slice time to work and the last batch time to finish.
func (w *purgeWorker) Timeout(*river.Job[purgeArgs]) time.Duration { return 2 * sliceTime }

func (w *purgeWorker) Work(ctx context.Context, _ *river.Job[purgeArgs]) error {
	res, err := w.svc.Purge(ctx, sliceTime)
	if res.Events > 0 || res.MailBodies > 0 {
		w.svc.log.Info("data retention purged", "events", res.Events, "mail_bodies", res.MailBodies, "done", res.Done)
	}
	if err == nil && !res.Done {
		return river.JobSnooze(0) // the slice is over: the next one goes on
	}
	return err
}
