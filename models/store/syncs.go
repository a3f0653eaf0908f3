package store

import (
	"context"
	"time"

	"onramp/models"
)

// CreateDirectorySync inserts a sync; while the directory has an open one (queued or running)
// it is models.ErrConflict (the unique index directory_syncs_open_idx).
func (s *Store) CreateDirectorySync(ctx context.Context, ds *models.DirectorySync) error {
	return wrap(s.q(ctx).Create(ds).Error)
}

// DirectorySync loads a sync of an account.
func (s *Store) DirectorySync(ctx context.Context, accountID, id int64) (*models.DirectorySync, error) {
	return first[models.DirectorySync](s.q(ctx).Where("account_id = ? AND id = ?", accountID, id))
}

// OpenDirectorySync loads the queued or running sync of a directory of an account.
func (s *Store) OpenDirectorySync(ctx context.Context, accountID, directoryID int64) (*models.DirectorySync, error) {
	return first[models.DirectorySync](s.q(ctx).Where("account_id = ? AND directory_id = ? AND status IN ?",
		accountID, directoryID, []models.SyncStatus{models.SyncQueued, models.SyncRunning}))
}

// DirectorySyncs returns the latest syncs of a directory of an account, newest first, at most
// limit of them.
func (s *Store) DirectorySyncs(ctx context.Context, accountID, directoryID int64, limit int) ([]models.DirectorySync, error) {
	var out []models.DirectorySync
	return out, wrap(s.q(ctx).Where("account_id = ? AND directory_id = ?", accountID, directoryID).
		Order("id DESC").Limit(limit).Find(&out).Error)
}

// LatestDirectorySyncs returns the latest sync of each directory of an account, keyed by
// directory id, in one query.
func (s *Store) LatestDirectorySyncs(ctx context.Context, accountID int64) (map[int64]models.DirectorySync, error) {
	var rows []models.DirectorySync
	latest := s.q(ctx).Model(&models.DirectorySync{}).Select("MAX(id)").Where("account_id = ?", accountID).Group("directory_id")
	if err := s.q(ctx).Where("account_id = ? AND id IN (?)", accountID, latest).Find(&rows).Error; err != nil {
		return nil, wrap(err)
	}
	out := make(map[int64]models.DirectorySync, len(rows))
	for _, r := range rows {
		out[r.DirectoryID] = r
	}
	return out, nil
}

// StartDirectorySync marks a queued sync running from at; a sync restarted after its worker
// died keeps its first start time.
func (s *Store) StartDirectorySync(ctx context.Context, ds *models.DirectorySync, at time.Time) error {
	if ds.StartedAt == nil {
		ds.StartedAt = &at
	}
	ds.Status, ds.UpdatedAt = models.SyncRunning, at
	return affected(s.q(ctx).Model(&models.DirectorySync{}).Where("account_id = ? AND id = ?", ds.AccountID, ds.ID).
		Updates(map[string]any{"status": ds.Status, "started_at": ds.StartedAt, "updated_at": at}))
}

// SaveDirectorySync saves the progress, counts and outcome of a sync (its status, error and
// finish time included).
func (s *Store) SaveDirectorySync(ctx context.Context, ds *models.DirectorySync) error {
	return affected(s.q(ctx).Model(&models.DirectorySync{}).Where("account_id = ? AND id = ?", ds.AccountID, ds.ID).
		Updates(map[string]any{"status": ds.Status, "seen": ds.Seen, "total": ds.Total, "created": ds.Created,
			"updated": ds.Updated, "disabled": ds.Disabled, "deleted": ds.Deleted, "unchanged": ds.Unchanged,
			"skipped": ds.Skipped, "skip_reasons": ds.SkipReasons, "error": ds.Error, "finished_at": ds.FinishedAt,
			"updated_at": ds.UpdatedAt}))
}

// DueLDAPSchedules returns the LDAP settings, of every account, whose schedule is on and
// whose next sync time has come (or was never set).
func (s *Store) DueLDAPSchedules(ctx context.Context, now time.Time) ([]models.LDAPSettings, error) {
	var out []models.LDAPSettings
	return out, wrap(s.q(ctx).Where("schedule_hours > 0 AND (next_sync_at IS NULL OR next_sync_at <= ?)", now).
		Order("directory_id").Find(&out).Error)
}

// SetLDAPNextSync sets when the schedule of a directory of an account next queues a sync.
func (s *Store) SetLDAPNextSync(ctx context.Context, accountID, directoryID int64, at *time.Time) error {
	return wrap(s.q(ctx).Model(&models.LDAPSettings{}).Where("account_id = ? AND directory_id = ?", accountID, directoryID).
		Update("next_sync_at", at).Error)
}

// DirectoryUsersAfter returns up to limit users of a directory of an account with ids above
// after, in id order (a keyset page: a sync reads all of them this way).
func (s *Store) DirectoryUsersAfter(ctx context.Context, accountID, directoryID, after int64, limit int) ([]models.SDPUser, error) {
	var out []models.SDPUser
	return out, wrap(s.q(ctx).Where("account_id = ? AND directory_id = ? AND id > ?", accountID, directoryID, after).
		Order("id").Limit(limit).Find(&out).Error)
}

// UsersByEmails returns the users of an account among the (normalised) emails.
func (s *Store) UsersByEmails(ctx context.Context, accountID int64, emails []string) ([]models.SDPUser, error) {
	var out []models.SDPUser
	if len(emails) == 0 {
		return out, nil
	}
	return out, wrap(s.q(ctx).Where("account_id = ? AND email IN ?", accountID, emails).Find(&out).Error)
}
