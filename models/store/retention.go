package store

import (
	"context"
	"time"

	"onramp/models"
)

// SaveRetention saves the data retention settings of a.
func (s *Store) SaveRetention(ctx context.Context, a *models.Account) error {
	a.UpdatedAt = nowUTC()
	return affected(s.q(ctx).Model(&models.Account{}).Where("id = ?", a.ID).
		Select("event_retention_days", "mail_body_retention_days", "updated_at").Updates(a))
}

// AccountsAfter lists up to limit accounts whose id is above after, in id order: the
// retention job walks every account this way.
func (s *Store) AccountsAfter(ctx context.Context, after int64, limit int) ([]models.Account, error) {
	var out []models.Account
	err := s.q(ctx).Where("id > ?", after).Order("id").Limit(limit).Find(&out).Error
	return out, wrap(err)
}

// PurgeEvents deletes up to limit events of the account (nil: the events of no account, such
// as refusals of unknown codes) that occurred before cutoff, and says how many it deleted.
// The subquery is a range of the (account_id, occurred_at) index.
func (s *Store) PurgeEvents(ctx context.Context, accountID *int64, cutoff time.Time, limit int) (int64, error) {
	owner, args := "account_id = ?", []any{accountID, cutoff, limit}
	if accountID == nil {
		owner, args = "account_id IS NULL", args[1:]
	}
	res := s.q(ctx).Exec(`DELETE FROM events WHERE id IN (
		SELECT id FROM events WHERE `+owner+` AND occurred_at < ? LIMIT ?)`, args...)
	return res.RowsAffected, wrap(res.Error)
}

// PurgeMailBodies empties the bodies of up to limit of the account's messages sent before
// cutoff, marking them purged at now; the rest of each row (recipient, subject, status,
// times) stays for the outbox. It says how many it emptied.
func (s *Store) PurgeMailBodies(ctx context.Context, accountID int64, cutoff, now time.Time, limit int) (int64, error) {
	res := s.q(ctx).Exec(`UPDATE mail_messages SET text_body = '', html_body = '', secret = '', body_purged_at = ? WHERE id IN (
		SELECT id FROM mail_messages WHERE account_id = ? AND status = 'sent' AND body_purged_at IS NULL AND sent_at < ? LIMIT ?)`,
		now, accountID, cutoff, limit)
	return res.RowsAffected, wrap(res.Error)
}
