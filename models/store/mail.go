package store

import (
	"context"
	"database/sql"

	"onramp/models"
)

// SQLTx returns the database/sql transaction this Store runs in, and false outside Tx. The job
// queue (River) shares the database and inserts its jobs through it, so that a job commits or
// rolls back with the change that caused it.
func (s *Store) SQLTx() (*sql.Tx, bool) {
	tx, ok := s.db.Statement.ConnPool.(*sql.Tx)
	return tx, ok
}

// CreateMailMessages inserts rendered emails, a batch per statement.
func (s *Store) CreateMailMessages(ctx context.Context, ms []*models.MailMessage) error {
	return wrap(s.q(ctx).CreateInBatches(ms, s.insertBatch(500)).Error)
}

// MailMessage loads an email of an account.
func (s *Store) MailMessage(ctx context.Context, accountID, id int64) (*models.MailMessage, error) {
	return first[models.MailMessage](s.q(ctx).Where("account_id = ? AND id = ?", accountID, id))
}

// MailMessageForDelivery loads an email by id alone: the delivery job names only the row.
func (s *Store) MailMessageForDelivery(ctx context.Context, id int64) (*models.MailMessage, error) {
	return first[models.MailMessage](s.q(ctx).Where("id = ?", id))
}

// MailPage is one page of an account's emails, newest first.
type MailPage struct {
	Messages []models.MailMessage // without their bodies
	// NextAfter is the id to pass as after for the next page, or 0 on the last page.
	NextAfter int64
}

// ListMailMessages returns up to limit emails of the account with an id below after (0: the
// newest), newest first (keyset on the (account_id, id DESC) index). Bodies are not loaded.
func (s *Store) ListMailMessages(ctx context.Context, accountID, after int64, limit int) (MailPage, error) {
	q := s.q(ctx).Select("id", "account_id", "sdp_user_id", "kind", "to_email", "subject", "message_id", "status",
		"attempts", "last_error", "created_at", "updated_at", "sent_at").Where("account_id = ?", accountID)
	if after > 0 {
		q = q.Where("id < ?", after)
	}
	var rows []models.MailMessage
	if err := q.Order("id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return MailPage{}, wrap(err)
	}
	page := MailPage{Messages: rows}
	if len(rows) > limit {
		page.Messages = rows[:limit]
		page.NextAfter = rows[limit-1].ID
	}
	return page, nil
}

// UpdateUnsentMail saves the given columns of an email that is not sent yet; a sent one is left
// alone (models.ErrNotFound), so that a late or repeated attempt never overwrites the record of
// a delivery.
func (s *Store) UpdateUnsentMail(ctx context.Context, id int64, cols map[string]any) error {
	cols["updated_at"] = nowUTC()
	return affected(s.q(ctx).Model(&models.MailMessage{}).Where("id = ? AND status <> ?", id, models.MailSent).Updates(cols))
}
