package store

import (
	"context"
	"database/sql"
	"time"

	"gorm.io/gorm"

	"onramp/models"
)

// SQLTx returns the database/sql transaction this Store runs in, and false outside Tx. The job
// queue (River) shares the database and inserts its jobs through it, so that a job commits or
// rolls back with the change that caused it.
func (s *Store) SQLTx() (*sql.Tx, bool) {
	tx, ok := s.db.Statement.ConnPool.(*sql.Tx)
	return tx, ok
}

// InTx reports whether this Store runs inside Tx.
func (s *Store) InTx() bool {
	_, ok := s.SQLTx()
	return ok
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

// LatestUserMail returns the newest message of a kind sent to each of the account's users among
// ids, keyed by user id (users without one are absent). One statement for a page of users,
// served by the user index of mail_messages (its IS NOT NULL predicate is repeated for SQLite).
func (s *Store) LatestUserMail(ctx context.Context, accountID int64, kind models.MailKind, ids []int64) (map[int64]models.UserMail, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []models.UserMail
	err := s.q(ctx).Raw(`SELECT id, sdp_user_id, status FROM mail_messages WHERE id IN (
		SELECT MAX(id) FROM mail_messages WHERE sdp_user_id IN ? AND sdp_user_id IS NOT NULL AND account_id = ? AND kind = ?
		GROUP BY sdp_user_id)`, ids, accountID, kind).Scan(&rows).Error
	if err != nil {
		return nil, wrap(err)
	}
	out := make(map[int64]models.UserMail, len(rows))
	for _, r := range rows {
		out[r.SDPUserID] = r
	}
	return out, nil
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

// updateUnsentMail saves the given columns of an email that is not sent yet; a sent one is left
// alone (models.ErrNotFound), so that a late or repeated attempt never overwrites the record of
// a delivery.
func (s *Store) updateUnsentMail(ctx context.Context, id int64, cols map[string]any) error {
	return s.updateMail(ctx, id, cols, "status <> ?", models.MailSent)
}

// updateMail saves the given columns of an email if its status meets cond (with arg), else it
// is models.ErrNotFound.
func (s *Store) updateMail(ctx context.Context, id int64, cols map[string]any, cond string, arg any) error {
	cols["updated_at"] = nowUTC()
	return affected(s.q(ctx).Model(&models.MailMessage{}).Where("id = ? AND "+cond, id, arg).Updates(cols))
}

// MailSending records that the attempt-th attempt is handing a queued or retrying email to the
// SMTP server (else models.ErrNotFound: nothing to send). It is committed before the hand-off,
// so that an attempt that finds it later knows the server may have the email.
func (s *Store) MailSending(ctx context.Context, id int64, attempt int) error {
	return s.updateMail(ctx, id, map[string]any{"status": models.MailSending, "attempts": attempt},
		"status IN ?", []models.MailStatus{models.MailQueued, models.MailRetrying})
}

// MailDeliveryUnknown records, saying why, that the hand-off of a sending email ended unseen
// (else models.ErrNotFound): the SMTP server may have it, so its secret is forgotten as if sent.
func (s *Store) MailDeliveryUnknown(ctx context.Context, id int64, why string) error {
	return s.updateMail(ctx, id, map[string]any{"status": models.MailUnknown, "last_error": why, "secret": ""}, "status = ?", models.MailSending)
}

// HoldMail keeps an unsent email as held (no SMTP server is configured).
func (s *Store) HoldMail(ctx context.Context, id int64) error {
	return s.updateUnsentMail(ctx, id, map[string]any{"status": models.MailHeld})
}

// MailSent records the delivery of an email at its attempt-th attempt (whatever it showed
// before: this may repair a status that could not be saved at the time), and forgets its secret.
func (s *Store) MailSent(ctx context.Context, id int64, attempt int, at time.Time) error {
	return s.updateUnsentMail(ctx, id, map[string]any{"status": models.MailSent, "attempts": attempt, "last_error": "", "sent_at": at, "secret": ""})
}

// MailAttemptFailed records that the hand-off of a sending email failed: its new status
// (retrying or failed), the attempt and why (else models.ErrNotFound).
func (s *Store) MailAttemptFailed(ctx context.Context, id int64, st models.MailStatus, attempt int, why string) error {
	return s.updateMail(ctx, id, map[string]any{"status": st, "attempts": attempt, "last_error": why}, "status = ?", models.MailSending)
}

// MailAttemptCrashed records an attempt that crashed before it handed a queued or retrying email
// to the SMTP server: its new status (retrying or failed), the attempt and why (else
// models.ErrNotFound).
func (s *Store) MailAttemptCrashed(ctx context.Context, id int64, st models.MailStatus, attempt int, why string) error {
	return s.updateMail(ctx, id, map[string]any{"status": st, "attempts": attempt, "last_error": why},
		"status IN ?", []models.MailStatus{models.MailQueued, models.MailRetrying})
}

// heldSendable selects an account's held messages that still make sense once SMTP is
// configured: the newest invitation of a user whose activation link (the newest) still works,
// and the newest disabled notice of a user who is still disabled. Older held messages carry
// dead links or old news, and stay held.
func (s *Store) heldSendable(ctx context.Context, accountID int64, now time.Time) *gorm.DB {
	return s.q(ctx).Model(&models.MailMessage{}).Where(`account_id = ? AND status = ? AND sdp_user_id IS NOT NULL
		AND id = (SELECT MAX(m2.id) FROM mail_messages m2 WHERE m2.sdp_user_id = mail_messages.sdp_user_id AND m2.kind = mail_messages.kind)
		AND ((kind = ? AND EXISTS (SELECT 1 FROM one_time_tokens t WHERE t.sdp_user_id = mail_messages.sdp_user_id
				AND t.purpose = ? AND t.used_at IS NULL AND t.expires_at > ?))
			OR (kind = ? AND EXISTS (SELECT 1 FROM sdp_users u WHERE u.id = mail_messages.sdp_user_id AND u.status = ?)))`,
		accountID, models.MailHeld, models.MailInvitation, models.TokenUserActivation, now, models.MailDisabledNotice, models.UserDisabled)
}

// CountHeldMail counts an account's held messages, and of them those worth sending now (see
// heldSendable).
func (s *Store) CountHeldMail(ctx context.Context, accountID int64, now time.Time) (held, sendable int64, err error) {
	if err := s.q(ctx).Model(&models.MailMessage{}).Where("account_id = ? AND status = ?", accountID, models.MailHeld).Count(&held).Error; err != nil {
		return 0, 0, wrap(err)
	}
	if held == 0 {
		return 0, 0, nil
	}
	return held, sendable, wrap(s.heldSendable(ctx, accountID, now).Count(&sendable).Error)
}

// QueueHeldMail turns an account's sendable held messages (see heldSendable) back to queued
// and returns their ids.
func (s *Store) QueueHeldMail(ctx context.Context, accountID int64, now time.Time) ([]int64, error) {
	var ids []int64
	if err := s.heldSendable(ctx, accountID, now).Order("id").Pluck("id", &ids).Error; err != nil {
		return nil, wrap(err)
	}
	for start := 0; start < len(ids); start += 1000 {
		batch := ids[start:min(start+1000, len(ids))]
		err := s.q(ctx).Model(&models.MailMessage{}).Where("id IN ? AND status = ?", batch, models.MailHeld).
			Updates(map[string]any{"status": models.MailQueued, "updated_at": nowUTC()}).Error
		if err != nil {
			return nil, wrap(err)
		}
	}
	return ids, nil
}
