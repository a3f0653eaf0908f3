package store

import (
	"context"
	"time"

	"onramp/models"
)

// CreateSession inserts a server-side session.
func (s *Store) CreateSession(ctx context.Context, sess *models.AdminSession) error {
	return wrap(s.q(ctx).Create(sess).Error)
}

// Session loads a session by the hash of its token.
func (s *Store) Session(ctx context.Context, id string) (*models.AdminSession, error) {
	return first[models.AdminSession](s.q(ctx).Where("id = ?", id))
}

// TouchSession records activity on a session.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	return wrap(s.q(ctx).Model(&models.AdminSession{}).Where("id = ?", id).Update("last_seen_at", at).Error)
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return wrap(s.q(ctx).Where("id = ?", id).Delete(&models.AdminSession{}).Error)
}

// DeleteAdminSessions ends every session of an admin but keep (which may be "").
func (s *Store) DeleteAdminSessions(ctx context.Context, adminID int64, keep string) error {
	return wrap(s.q(ctx).Where("admin_id = ? AND id <> ?", adminID, keep).Delete(&models.AdminSession{}).Error)
}

// DeleteExpiredSessions removes sessions past their absolute or idle limit.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time, idle time.Duration) (int64, error) {
	res := s.q(ctx).Where("expires_at < ? OR last_seen_at < ?", now, now.Add(-idle)).Delete(&models.AdminSession{})
	return res.RowsAffected, wrap(res.Error)
}
