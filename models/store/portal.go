package store

import (
	"context"
	"time"

	"onramp/models"
)

// PortalUser loads an SDP user by id alone. It is not scoped by account on purpose: callers
// reach it only through something that already names the user (an activation link's token, a
// portal session), so the token is the scope.
func (s *Store) PortalUser(ctx context.Context, id int64) (*models.SDPUser, error) {
	return first[models.SDPUser](s.q(ctx).Where("id = ?", id))
}

// RecordTOTPStep accepts a TOTP time step for a user only if it is later than the last one
// accepted: of two uses of one code (a replay, or two concurrent sign-ins) one gets
// models.ErrNotFound.
func (s *Store) RecordTOTPStep(ctx context.Context, userID, step int64) error {
	return affected(s.q(ctx).Model(&models.SDPUser{}).
		Where("id = ? AND totp_last_step < ?", userID, step).Update("totp_last_step", step))
}

// CreatePortalSession inserts a MyVPN portal session.
func (s *Store) CreatePortalSession(ctx context.Context, sess *models.PortalSession) error {
	return wrap(s.q(ctx).Create(sess).Error)
}

// PortalSession loads a portal session by the hash of its token.
func (s *Store) PortalSession(ctx context.Context, id string) (*models.PortalSession, error) {
	return first[models.PortalSession](s.q(ctx).Where("id = ?", id))
}

// TouchPortalSession records activity on a portal session.
func (s *Store) TouchPortalSession(ctx context.Context, id string, at time.Time) error {
	return wrap(s.q(ctx).Model(&models.PortalSession{}).Where("id = ?", id).Update("last_seen_at", at).Error)
}

// DeletePortalSession ends one portal session.
func (s *Store) DeletePortalSession(ctx context.Context, id string) error {
	return wrap(s.q(ctx).Where("id = ?", id).Delete(&models.PortalSession{}).Error)
}

// DeleteExpiredPortalSessions removes portal sessions past their absolute or idle limit.
func (s *Store) DeleteExpiredPortalSessions(ctx context.Context, now time.Time, idle time.Duration) (int64, error) {
	res := s.q(ctx).Where("expires_at < ? OR last_seen_at < ?", now, now.Add(-idle)).Delete(&models.PortalSession{})
	return res.RowsAffected, wrap(res.Error)
}
