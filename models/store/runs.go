package store

import (
	"context"

	"gorm.io/gorm"

	"onramp/models"
)

// CreateRun inserts a run; while the account has one of its kind queued or running, it is
// models.ErrConflict (a partial unique index keeps one open run per account and kind).
func (s *Store) CreateRun(ctx context.Context, r *models.Run) error {
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

// UpdateRun saves columns of a run.
func (s *Store) UpdateRun(ctx context.Context, id int64, cols map[string]any) error {
	cols["updated_at"] = nowUTC()
	return affected(s.q(ctx).Model(&models.Run{}).Where("id = ?", id).Updates(cols))
}

// AddRunProgress records a committed batch: done more users, affected of them changed, the
// last user id done (kept when 0).
func (s *Store) AddRunProgress(ctx context.Context, id int64, done, affectedUsers int, afterUserID int64) error {
	cols := map[string]any{"done": gorm.Expr("done + ?", done), "affected": gorm.Expr("affected + ?", affectedUsers), "updated_at": nowUTC()}
	if afterUserID > 0 {
		cols["after_user_id"] = afterUserID
	}
	return affected(s.q(ctx).Model(&models.Run{}).Where("id = ?", id).Updates(cols))
}
