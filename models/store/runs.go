package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"onramp/models"
)

// CreateRun inserts a run; while the account has one of its kind queued or running, it is
// models.ErrConflict (a partial unique index keeps one open run per account and kind).
func (s *Store) CreateRun(ctx context.Context, r *models.Run) error {
	s.runsChanged()
	return wrap(s.q(ctx).Create(r).Error)
}

// Run loads a run of an account.
func (s *Store) Run(ctx context.Context, accountID, id int64) (*models.Run, error) {
	return first[models.Run](s.q(ctx).Where("account_id = ? AND id = ?", accountID, id))
}

// RunForWork loads a run by id alone: the background job is not acting for any one admin.
func (s *Store) RunForWork(ctx context.Context, id int64) (*models.Run, error) {
	return first[models.Run](s.q(ctx).Where("id = ?", id))
}

// LatestRun loads the newest run of a kind of an account.
func (s *Store) LatestRun(ctx context.Context, accountID int64, kind models.RunKind) (*models.Run, error) {
	return first[models.Run](s.q(ctx).Where("account_id = ? AND kind = ?", accountID, kind).Order("id DESC").Limit(1))
}

// OpenRun loads the account's queued or running run of a kind.
func (s *Store) OpenRun(ctx context.Context, accountID int64, kind models.RunKind) (*models.Run, error) {
	return first[models.Run](s.q(ctx).Where("account_id = ? AND kind = ? AND status IN ?", accountID, kind,
		[]models.RunStatus{models.RunQueued, models.RunRunning}).Limit(1))
}

// ShownOpenRun is OpenRun for showing on a page (nil when none is open): it may be
// pageCacheTTL old. Whatever decides on a run (starting one) reads OpenRun in its transaction.
func (s *Store) ShownOpenRun(ctx context.Context, accountID int64, kind models.RunKind) (*models.Run, error) {
	key := runKey{accountID, kind}
	if run, ok := s.caches.openRuns.get(key); ok {
		return copyRun(run), nil
	}
	run, err := s.OpenRun(ctx, accountID, kind)
	switch {
	case errors.Is(err, models.ErrNotFound):
		run = nil
	case err != nil:
		return nil, err
	}
	s.caches.openRuns.put(key, copyRun(run))
	return run, nil
}

// copyRun keeps the cached run from its readers' changes.
func copyRun(r *models.Run) *models.Run {
	if r == nil {
		return nil
	}
	c := *r
	return &c
}

// runsChanged drops every cached open run (a run's row does not name its account where it
// changes; runs change a few times a second at most).
func (s *Store) runsChanged() {
	s.changed(s.caches.openRuns.forgetAll)
}

// updateRun saves columns of a run.
func (s *Store) updateRun(ctx context.Context, id int64, cols map[string]any) error {
	cols["updated_at"] = nowUTC()
	s.runsChanged()
	return affected(s.q(ctx).Model(&models.Run{}).Where("id = ?", id).Updates(cols))
}

// BeginRunAttempt marks an open run running from now (its start time is kept from the first
// attempt), held by worker, and clears the error of the attempt before. Another worker's hold
// counts until its heartbeat is older than staleBefore: while it is live, this is
// models.ErrNotFound, and so is a run that is no longer open.
func (s *Store) BeginRunAttempt(ctx context.Context, id int64, worker string, now, staleBefore time.Time) error {
	return affected(s.q(ctx).Model(&models.Run{}).
		Where("id = ? AND status IN ?", id, []models.RunStatus{models.RunQueued, models.RunRunning}).
		Where("worker = '' OR worker = ? OR heartbeat_at IS NULL OR heartbeat_at < ?", worker, staleBefore).
		Updates(map[string]any{"status": models.RunRunning, "error": "", "started_at": gorm.Expr("COALESCE(started_at, ?)", now),
			"worker": worker, "heartbeat_at": now, "updated_at": nowUTC()}))
}

// HeartbeatRun records that worker, which holds the run, is alive; models.ErrNotFound when it
// no longer holds it.
func (s *Store) HeartbeatRun(ctx context.Context, id int64, worker string, now time.Time) error {
	return affected(s.q(ctx).Model(&models.Run{}).Where("id = ? AND worker = ?", id, worker).Update("heartbeat_at", now))
}

// ReleaseRun lets go of a run that worker holds: its attempt ended.
func (s *Store) ReleaseRun(ctx context.Context, id int64, worker string) error {
	return wrap(s.q(ctx).Model(&models.Run{}).Where("id = ? AND worker = ?", id, worker).
		Updates(map[string]any{"worker": "", "heartbeat_at": nil}).Error)
}

// FinishRun marks a run done.
func (s *Store) FinishRun(ctx context.Context, id int64, now time.Time) error {
	return s.updateRun(ctx, id, map[string]any{"status": models.RunDone, "finished_at": now, "error": ""})
}

// FailRun marks a run failed for good, saying why.
func (s *Store) FailRun(ctx context.Context, id int64, now time.Time, why string) error {
	return s.updateRun(ctx, id, map[string]any{"status": models.RunFailed, "finished_at": now, "error": why})
}

// NoteRunError shows why an attempt of a run failed while the run goes on.
func (s *Store) NoteRunError(ctx context.Context, id int64, why string) error {
	return s.updateRun(ctx, id, map[string]any{"error": why})
}

// AddRunProgress records a committed batch: done more users, affected of them changed, the
// last user id done (kept when 0).
func (s *Store) AddRunProgress(ctx context.Context, id int64, done, affectedUsers int, afterUserID int64) error {
	cols := map[string]any{"done": gorm.Expr("done + ?", done), "affected": gorm.Expr("affected + ?", affectedUsers), "updated_at": nowUTC()}
	if afterUserID > 0 {
		cols["after_user_id"] = afterUserID
	}
	s.runsChanged()
	return affected(s.q(ctx).Model(&models.Run{}).Where("id = ?", id).Updates(cols))
}
