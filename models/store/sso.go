package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm/clause"

	"onramp/models"
)

// SSOSettings loads an account's OpenID provider settings.
func (s *Store) SSOSettings(ctx context.Context, accountID int64) (*models.SSOSettings, error) {
	return first[models.SSOSettings](s.q(ctx).Where("account_id = ?", accountID))
}

// SaveSSOSettings inserts or replaces an account's OpenID provider settings.
func (s *Store) SaveSSOSettings(ctx context.Context, st *models.SSOSettings) error {
	return wrap(s.q(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "account_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"issuer", "client_id", "secret_sealed", "scopes", "email_claim", "no_email_verified", "groups_claim", "create_users", "updated_at"}),
	}).Create(st).Error)
}

// SetSSOEnabled turns an account's single sign-on on or off.
func (s *Store) SetSSOEnabled(ctx context.Context, accountID int64, on bool) error {
	return affected(s.q(ctx).Model(&models.Account{}).Where("id = ?", accountID).
		Updates(map[string]any{"sso_enabled": on, "updated_at": nowUTC()}))
}

// CreateSSOLogin records a sign-in attempt, and purges the attempts that expired more than a
// day ago (kept that long so that a late replay is still told apart from a forged state).
func (s *Store) CreateSSOLogin(ctx context.Context, l *models.SSOLogin) error {
	if err := s.q(ctx).Where("expires_at < ?", l.CreatedAt.Add(-24*time.Hour)).Delete(&models.SSOLogin{}).Error; err != nil {
		return wrap(err)
	}
	return wrap(s.q(ctx).Create(l).Error)
}

// ErrSSOLoginUsed is UseSSOLogin's answer for an attempt that was used already.
var ErrSSOLoginUsed = errors.New("store: sign-in attempt used already")

// UseSSOLogin marks the attempt with this state hash used and returns it: of concurrent uses
// one wins, the others get ErrSSOLoginUsed; an unknown hash is models.ErrNotFound.
func (s *Store) UseSSOLogin(ctx context.Context, stateHash string, at time.Time) (*models.SSOLogin, error) {
	res := s.q(ctx).Model(&models.SSOLogin{}).Where("state_hash = ? AND used_at IS NULL", stateHash).Update("used_at", at)
	if res.Error != nil {
		return nil, wrap(res.Error)
	}
	l, err := first[models.SSOLogin](s.q(ctx).Where("state_hash = ?", stateHash))
	if err != nil {
		return nil, err
	}
	if res.RowsAffected == 0 {
		return l, ErrSSOLoginUsed
	}
	return l, nil
}

// DirectoryUsersByExternalID loads the users of an account that a directory created with this
// external id (at most two: the caller refuses an ambiguous match).
func (s *Store) DirectoryUsersByExternalID(ctx context.Context, accountID int64, externalID string) ([]models.SDPUser, error) {
	var us []models.SDPUser
	err := s.q(ctx).Where("account_id = ? AND directory_id IS NOT NULL AND external_id = ?", accountID, externalID).
		Order("id").Limit(2).Find(&us).Error
	return us, wrap(err)
}

// MarkUserActive makes a user of an account active without touching their password (the first
// single sign-on activates them).
func (s *Store) MarkUserActive(ctx context.Context, accountID, id int64) error {
	return s.updateUser(ctx, accountID, id, map[string]any{"activation": models.ActivationActive})
}
