package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"onramp/models"
)

// CreateAPIToken inserts an API token (its hash).
func (s *Store) CreateAPIToken(ctx context.Context, t *models.APIToken) error {
	return wrap(s.q(ctx).Create(t).Error)
}

// APITokenByHash loads the token with this hash, revoked or expired ones too (the caller says
// which are live).
func (s *Store) APITokenByHash(ctx context.Context, hash string) (*models.APIToken, error) {
	return first[models.APIToken](s.q(ctx).Where("token_hash = ?", hash))
}

// TouchAPIToken records when and from where a token was last used.
func (s *Store) TouchAPIToken(ctx context.Context, accountID, id int64, at time.Time, ip string) error {
	return wrap(s.q(ctx).Model(&models.APIToken{}).Where("account_id = ? AND id = ?", accountID, id).
		Updates(map[string]any{"last_used_at": at, "last_used_ip": ip}).Error)
}

// APITokens returns the tokens of an account, newest first.
func (s *Store) APITokens(ctx context.Context, accountID int64) ([]models.APIToken, error) {
	var ts []models.APIToken
	return ts, wrap(s.q(ctx).Where("account_id = ?", accountID).Order("id DESC").Find(&ts).Error)
}

// RevokeAPIToken revokes a live token of an account at at; a token of another account, or one
// already revoked, is models.ErrNotFound.
func (s *Store) RevokeAPIToken(ctx context.Context, accountID, id int64, at time.Time) (*models.APIToken, error) {
	t, err := first[models.APIToken](s.q(ctx).Where("account_id = ? AND id = ? AND revoked_at IS NULL", accountID, id))
	if err != nil {
		return nil, err
	}
	t.RevokedAt = &at
	return t, affected(s.q(ctx).Model(&models.APIToken{}).Where("id = ? AND revoked_at IS NULL", t.ID).Update("revoked_at", at))
}

// ReserveIdempotencyKey claims (token, key) for a request: true when this request is the first
// with the key (the row is inserted with status 0), false when a row is there already, which it
// then returns. Rows created before expired are removed first, so that their keys are free.
func (s *Store) ReserveIdempotencyKey(ctx context.Context, k *models.APIIdempotencyKey, expired time.Time) (bool, *models.APIIdempotencyKey, error) {
	if err := s.q(ctx).Where("token_id = ? AND created_at < ?", k.TokenID, expired).Delete(&models.APIIdempotencyKey{}).Error; err != nil {
		return false, nil, wrap(err)
	}
	res := s.q(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(k)
	if res.Error != nil {
		return false, nil, wrap(res.Error)
	}
	if res.RowsAffected == 1 {
		return true, nil, nil
	}
	prev, err := first[models.APIIdempotencyKey](s.q(ctx).Where("token_id = ? AND idem_key = ?", k.TokenID, k.IdemKey))
	return false, prev, err
}

// FinishIdempotencyKey stores the response of the request that reserved (token, key).
func (s *Store) FinishIdempotencyKey(ctx context.Context, tokenID int64, key string, status int, contentType, body string) error {
	return affected(s.q(ctx).Model(&models.APIIdempotencyKey{}).Where("token_id = ? AND idem_key = ?", tokenID, key).
		Updates(map[string]any{"status": status, "content_type": contentType, "body": body}))
}

// ReleaseIdempotencyKey frees (token, key): the request failed, a retry may run again.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, tokenID int64, key string) error {
	return wrap(s.q(ctx).Where("token_id = ? AND idem_key = ?", tokenID, key).Delete(&models.APIIdempotencyKey{}).Error)
}

// FirstActiveAdmin is the account's oldest enabled admin with the admin role: the command
// line's API tokens are attributed to them.
func (s *Store) FirstActiveAdmin(ctx context.Context, accountID int64) (*models.Admin, error) {
	return first[models.Admin](s.q(ctx).Where("account_id = ? AND role = ? AND status = ?", accountID, models.RoleAdmin, models.AdminActive).Order("id"))
}
