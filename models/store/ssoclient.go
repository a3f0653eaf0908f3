package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"onramp/models"
)

// CreateClientLogin inserts a VPN client's sign-in with the identity provider.
func (s *Store) CreateClientLogin(ctx context.Context, l *models.ClientLogin) error {
	return wrap(s.q(ctx).Create(l).Error)
}

// ClientLoginByPoll loads a client sign-in by the hash of its poll token. Not scoped by
// account: the 256-bit token is the scope.
func (s *Store) ClientLoginByPoll(ctx context.Context, pollHash string) (*models.ClientLogin, error) {
	return first[models.ClientLogin](s.q(ctx).Where("poll_hash = ?", pollHash))
}

// ClientLoginByLink loads a client sign-in by the hash of its link's secret (the scope, as above).
func (s *Store) ClientLoginByLink(ctx context.Context, linkHash string) (*models.ClientLogin, error) {
	return first[models.ClientLogin](s.q(ctx).Where("link_hash = ?", linkHash))
}

// ClientLogin loads a client sign-in of an account.
func (s *Store) ClientLogin(ctx context.Context, accountID, id int64) (*models.ClientLogin, error) {
	return first[models.ClientLogin](s.q(ctx).Where("account_id = ? AND id = ?", accountID, id))
}

// ClaimClientLogin binds a live, unfinished client sign-in of an account to the browser whose
// cookie hashes to browserHash: the first browser to claim it gets it, the same browser may
// claim it again, any other gets models.ErrNotFound.
func (s *Store) ClaimClientLogin(ctx context.Context, accountID, id int64, browserHash string, now time.Time) error {
	return affected(s.q(ctx).Model(&models.ClientLogin{}).
		Where("account_id = ? AND id = ? AND (browser_hash = '' OR browser_hash = ?) AND completed_at IS NULL AND expires_at > ?",
			accountID, id, browserHash, now).
		Updates(map[string]any{"browser_hash": browserHash, "claimed_at": now}))
}

// CompleteClientLogin finishes a live client sign-in of an account claimed by the browser of
// browserHash: with its user (userID) or a refusal. A sign-in finished already, expired or
// claimed by another browser is models.ErrNotFound.
func (s *Store) CompleteClientLogin(ctx context.Context, accountID, id int64, browserHash string, userID *int64, refusal string, now time.Time) error {
	return affected(s.q(ctx).Model(&models.ClientLogin{}).
		Where("account_id = ? AND id = ? AND browser_hash = ? AND browser_hash <> '' AND completed_at IS NULL AND expires_at > ?",
			accountID, id, browserHash, now).
		Updates(map[string]any{"sdp_user_id": userID, "refusal": refusal, "completed_at": now}))
}

// RecordClientPoll records a poll of a client sign-in at now if no other poll was recorded
// since l was read: of two concurrent polls, on any replica, one matches; the other is
// models.ErrNotFound. When slower is above zero the interval grows by that many seconds
// (slow_down).
func (s *Store) RecordClientPoll(ctx context.Context, l *models.ClientLogin, now time.Time, slower int) error {
	cols := map[string]any{"polled_at": now, "polls": l.Polls + 1}
	if slower > 0 {
		cols["interval_seconds"] = gorm.Expr("interval_seconds + ?", slower)
	}
	return affected(s.q(ctx).Model(&models.ClientLogin{}).Where("id = ? AND polls = ?", l.ID, l.Polls).Updates(cols))
}

// UseClientLogin marks a completed client sign-in of an account as used by its new device; a
// sign-in used already (a concurrent poll won) is models.ErrNotFound.
func (s *Store) UseClientLogin(ctx context.Context, accountID, id, deviceID int64, now time.Time) error {
	return affected(s.q(ctx).Model(&models.ClientLogin{}).
		Where("account_id = ? AND id = ? AND used_at IS NULL AND sdp_user_id IS NOT NULL", accountID, id).
		Updates(map[string]any{"used_at": now, "device_id": deviceID}))
}

// DeleteClientLoginsBefore deletes the client sign-ins that expired before at.
func (s *Store) DeleteClientLoginsBefore(ctx context.Context, at time.Time) error {
	return wrap(s.q(ctx).Where("expires_at < ?", at).Delete(&models.ClientLogin{}).Error)
}
