package directory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"onramp/models"
	"onramp/models/jobs"
	"onramp/models/store"
)

// ErrSyncRunning: the directory already has a queued or running sync. StartSync returns it
// with that sync, so that the page can show its progress rather than start another.
var ErrSyncRunning = fmt.Errorf("%w: a sync of this directory is already running", models.ErrConflict)

// Timing of the sync jobs. An attempt stays within River's rescue window; one that runs out
// of time is tried again and RunSync carries on from what the last attempt committed (the
// algorithm is idempotent). A sync whose row has not moved for staleSyncAfter (its job is
// gone) may be replaced by a new start.
const (
	syncAttemptTimeout = 4 * time.Minute
	syncMaxAttempts    = 5
	scheduleEvery      = 5 * time.Minute
	staleSyncAfter     = 30 * time.Minute
)

// ScheduleSyncs registers the job that runs queued syncs (RunSync) and the periodic job of
// the schedules with j, and lets StartSync queue syncs on it. Call it while wiring, before
// the jobs start.
func (s *Service) ScheduleSyncs(j *jobs.Jobs) {
	s.jobs = j
	jobs.AddWorker(j, &syncWorker{s: s})
	jobs.AddWorker(j, &scheduleWorker{s: s})
	j.Every("directory.schedule", scheduleEvery, scheduleArgs{}, &river.InsertOpts{Queue: jobs.QueueMaintenance, MaxAttempts: 3}, true)
}

type syncArgs struct {
	AccountID int64 `json:"account_id"`
	SyncID    int64 `json:"sync_id"`
}

func (syncArgs) Kind() string { return "directory.sync" }

type syncWorker struct {
	river.WorkerDefaults[syncArgs]
	s *Service
}

func (w *syncWorker) Timeout(*river.Job[syncArgs]) time.Duration { return syncAttemptTimeout }

func (w *syncWorker) Work(ctx context.Context, job *river.Job[syncArgs]) error {
	err := w.s.RunSync(ctx, job.Args.AccountID, job.Args.SyncID)
	if err != nil && job.Attempt >= job.MaxAttempts {
		// The last attempt: the sync says so rather than stay "running" for ever.
		return errors.Join(err, w.s.abandonSync(context.WithoutCancel(ctx), job.Args.AccountID, job.Args.SyncID, err))
	}
	return err
}

type scheduleArgs struct{}

func (scheduleArgs) Kind() string { return "directory.schedule" }

type scheduleWorker struct {
	river.WorkerDefaults[scheduleArgs]
	s *Service
}

func (w *scheduleWorker) Work(ctx context.Context, _ *river.Job[scheduleArgs]) error {
	_, err := w.s.QueueScheduledSyncs(ctx)
	return err
}

// StartSync queues a sync of an LDAP directory of the admin's account and the job that runs
// it. With approve it is the approval of the sync a safety limit stopped (allowed only when
// the directory's latest sync is blocked): that one sync may exceed the limits. While the
// directory has an open sync, that sync is returned with ErrSyncRunning.
func (s *Service) StartSync(ctx context.Context, actor *models.Admin, ip string, directoryID int64, approve bool) (*models.DirectorySync, error) {
	if actor.Role != models.RoleAdmin {
		return nil, models.ErrForbidden
	}
	who := models.AdminActor(actor, ip)
	ds := &models.DirectorySync{Cause: models.SyncManual, Approved: approve, AdminID: who.ID}
	if approve {
		ds.Cause = models.SyncApproval
	}
	return s.queueSync(ctx, actor.AccountID, directoryID, ds, who, true)
}

// SyncNow runs a sync of the LDAP directory label of the named account in the foreground
// (onramp directory sync) and returns it finished: its status says whether it was done,
// failed or blocked by a safety limit.
func (s *Service) SyncNow(ctx context.Context, accountName, label string, who models.Actor) (*models.DirectorySync, error) {
	account, err := s.store.AccountByName(ctx, accountName)
	if err != nil {
		return nil, err
	}
	d, err := s.store.DirectoryByName(ctx, account.ID, label)
	if err != nil {
		return nil, err
	}
	ds, err := s.queueSync(ctx, account.ID, d.ID, &models.DirectorySync{Cause: models.SyncCLI}, who, false)
	if err != nil {
		return ds, err
	}
	if err := s.RunSync(ctx, account.ID, ds.ID); err != nil {
		return nil, errors.Join(err, s.abandonSync(context.WithoutCancel(ctx), account.ID, ds.ID, err))
	}
	return s.store.DirectorySync(ctx, account.ID, ds.ID)
}

// queueSync inserts ds for a directory of an account, with the job that runs it when
// withJob; see StartSync.
func (s *Service) queueSync(ctx context.Context, accountID, directoryID int64, ds *models.DirectorySync, who models.Actor, withJob bool) (*models.DirectorySync, error) {
	var open *models.DirectorySync
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		d, err := tx.DirectoryByID(ctx, accountID, directoryID)
		if err != nil {
			return err
		}
		if d.Kind != models.DirectoryLDAP {
			return models.NewValidationError("", "Only LDAP directories are synced: "+d.Name+" is a SCIM directory.")
		}
		now := s.now()
		open, err = tx.OpenDirectorySync(ctx, accountID, directoryID)
		switch {
		case err == nil && now.Sub(open.UpdatedAt) < staleSyncAfter:
			return ErrSyncRunning
		case err == nil:
			open.Status, open.Error, open.FinishedAt, open.UpdatedAt = models.SyncFailed, "It stopped making progress (its worker was stopped); a new sync replaced it.", &now, now
			if err := tx.SaveDirectorySync(ctx, open); err != nil {
				return err
			}
			open = nil
		case !errors.Is(err, models.ErrNotFound):
			return err
		}
		if ds.Approved {
			latest, err := tx.DirectorySyncs(ctx, accountID, directoryID, 1)
			if err != nil {
				return err
			}
			if len(latest) == 0 || latest[0].Status != models.SyncBlocked {
				return models.NewValidationError("", "Only a sync that a safety limit stopped can be approved, and the latest sync of "+d.Name+" was not stopped.")
			}
		}
		ds.AccountID, ds.DirectoryID, ds.Status = accountID, directoryID, models.SyncQueued
		ds.ActorType, ds.ActorLabel, ds.SourceIP = who.Type, who.Label, who.IP
		ds.CreatedAt, ds.UpdatedAt = now, now
		if err := tx.CreateDirectorySync(ctx, ds); err != nil {
			return err
		}
		if !withJob {
			return nil
		}
		return s.jobs.InsertTx(ctx, tx, syncArgs{AccountID: accountID, SyncID: ds.ID},
			&river.InsertOpts{Queue: jobs.QueueRuns, MaxAttempts: syncMaxAttempts})
	})
	switch {
	case errors.Is(err, ErrSyncRunning):
		return open, err
	case errors.Is(err, models.ErrConflict):
		// Another start won the race for the open sync.
		if open, oerr := s.store.OpenDirectorySync(ctx, accountID, directoryID); oerr == nil {
			return open, ErrSyncRunning
		}
		return nil, err
	case err != nil:
		return nil, err
	}
	return ds, nil
}

// QueueScheduledSyncs queues a schedule sync of every LDAP directory (of every account)
// whose schedule is due, and moves its next sync time on by its interval. A directory with
// an open sync gets no second one (the open-sync unique index holds it even with several
// servers). It returns how many syncs it queued.
func (s *Service) QueueScheduledSyncs(ctx context.Context) (int, error) {
	now := s.now()
	due, err := s.store.DueLDAPSchedules(ctx, now)
	if err != nil {
		return 0, err
	}
	who := models.Actor{Type: models.ActorSystem, Label: "schedule"}
	queued := 0
	for _, l := range due {
		_, err := s.queueSync(ctx, l.AccountID, l.DirectoryID, &models.DirectorySync{Cause: models.SyncSchedule}, who, true)
		switch {
		case err == nil:
			queued++
		case !errors.Is(err, ErrSyncRunning):
			return queued, err
		}
		next := now.Add(time.Duration(l.ScheduleHours) * time.Hour)
		if err := s.store.SetLDAPNextSync(ctx, l.AccountID, l.DirectoryID, &next); err != nil {
			return queued, err
		}
	}
	return queued, nil
}

// DirectorySync returns a sync of a directory of the admin's account.
func (s *Service) DirectorySync(ctx context.Context, actor *models.Admin, directoryID, syncID int64) (*models.DirectorySync, error) {
	ds, err := s.store.DirectorySync(ctx, actor.AccountID, syncID)
	if err != nil {
		return nil, err
	}
	if ds.DirectoryID != directoryID {
		return nil, models.ErrNotFound
	}
	return ds, nil
}

// DirectorySyncs returns the latest syncs of a directory of the admin's account, newest
// first, at most limit of them.
func (s *Service) DirectorySyncs(ctx context.Context, actor *models.Admin, directoryID int64, limit int) ([]models.DirectorySync, error) {
	return s.store.DirectorySyncs(ctx, actor.AccountID, directoryID, limit)
}

// LatestSyncs returns the latest sync of each directory of the admin's account, keyed by
// directory id (the Directory Sync tab's last sync column), in one query.
func (s *Service) LatestSyncs(ctx context.Context, actor *models.Admin) (map[int64]models.DirectorySync, error) {
	return s.store.LatestDirectorySyncs(ctx, actor.AccountID)
}

// abandonSync marks an open sync failed after its last attempt ended in err.
func (s *Service) abandonSync(ctx context.Context, accountID, syncID int64, cause error) error {
	ds, err := s.store.DirectorySync(ctx, accountID, syncID)
	if err != nil || !ds.Open() {
		return err
	}
	return s.finishSync(ctx, ds, &syncStop{status: models.SyncFailed, reason: "The sync stopped on an error: " + cause.Error()})
}
