package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"onramp/migrations"
	"onramp/models"
)

// CreateStreamDestination inserts a destination of d.AccountID with its filters.
func (s *Store) CreateStreamDestination(ctx context.Context, d *models.StreamDestination, filters []models.StreamFilter) error {
	if err := s.q(ctx).Create(d).Error; err != nil {
		return wrap(err)
	}
	return s.setStreamFilters(ctx, d.ID, filters)
}

func (s *Store) setStreamFilters(ctx context.Context, id int64, filters []models.StreamFilter) error {
	if err := s.q(ctx).Where("destination_id = ?", id).Delete(&models.StreamFilter{}).Error; err != nil {
		return wrap(err)
	}
	if len(filters) == 0 {
		return nil
	}
	rows := make([]models.StreamFilter, len(filters))
	for i, f := range filters {
		rows[i] = models.StreamFilter{DestinationID: id, Type: f.Type, SubType: f.SubType}
	}
	return wrap(s.q(ctx).Create(&rows).Error)
}

// StreamDestinations lists an account's destinations, oldest first.
func (s *Store) StreamDestinations(ctx context.Context, accountID int64) ([]models.StreamDestination, error) {
	var out []models.StreamDestination
	err := s.q(ctx).Where("account_id = ?", accountID).Order("id").Find(&out).Error
	return out, wrap(err)
}

// StreamDestination loads a destination of an account.
func (s *Store) StreamDestination(ctx context.Context, accountID, id int64) (*models.StreamDestination, error) {
	return first[models.StreamDestination](s.q(ctx).Where("account_id = ? AND id = ?", accountID, id))
}

// StreamDestinationForDelivery loads a destination by id alone: the delivery job of a
// destination, which carries only its id.
func (s *Store) StreamDestinationForDelivery(ctx context.Context, id int64) (*models.StreamDestination, error) {
	return first[models.StreamDestination](s.q(ctx).Where("id = ?", id))
}

// StreamFilters returns the filters of destinations, by destination.
func (s *Store) StreamFilters(ctx context.Context, ids []int64) (map[int64][]models.StreamFilter, error) {
	out := map[int64][]models.StreamFilter{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []models.StreamFilter
	if err := s.q(ctx).Where("destination_id IN ?", ids).Order("destination_id, type, sub_type").Find(&rows).Error; err != nil {
		return nil, wrap(err)
	}
	for _, r := range rows {
		out[r.DestinationID] = append(out[r.DestinationID], r)
	}
	return out, nil
}

// SetStreamDestinationEnabled turns a destination of an account on or off.
func (s *Store) SetStreamDestinationEnabled(ctx context.Context, accountID, id int64, enabled bool) error {
	return affected(s.q(ctx).Model(&models.StreamDestination{}).Where("account_id = ? AND id = ?", accountID, id).
		Updates(map[string]any{"enabled": enabled, "updated_at": nowUTC()}))
}

// DeleteStreamDestination deletes a destination of an account with its filters, pending
// deliveries and log.
func (s *Store) DeleteStreamDestination(ctx context.Context, accountID, id int64) error {
	return affected(s.q(ctx).Where("account_id = ? AND id = ?", accountID, id).Delete(&models.StreamDestination{}))
}

// StreamDestinationsWithPending returns the enabled destinations that have deliveries to make.
func (s *Store) StreamDestinationsWithPending(ctx context.Context) ([]int64, error) {
	var ids []int64
	err := s.q(ctx).Model(&models.StreamDestination{}).Where("enabled").
		Where("EXISTS (SELECT 1 FROM stream_deliveries p WHERE p.destination_id = stream_destinations.id)").
		Order("id").Pluck("id", &ids).Error
	return ids, wrap(err)
}

// PendingCounts counts the deliveries still to make of an account's destinations.
func (s *Store) PendingCounts(ctx context.Context, accountID int64) (map[int64]int64, error) {
	var rows []struct {
		DestinationID int64
		N             int64
	}
	err := s.q(ctx).Raw(`SELECT p.destination_id, COUNT(*) AS n FROM stream_deliveries p
		JOIN stream_destinations d ON d.id = p.destination_id
		WHERE d.account_id = ? GROUP BY p.destination_id`, accountID).Scan(&rows).Error
	out := map[int64]int64{}
	for _, r := range rows {
		out[r.DestinationID] = r.N
	}
	return out, wrap(err)
}

// PendingDelivery is a delivery to make, with its event and the event's account name.
type PendingDelivery struct {
	DeliveryID int64
	Account    string
	models.Event
}

// PendingDeliveries returns up to limit of a destination's deliveries, in delivery order.
//
// On PostgreSQL a sequence hands out ids in the order its callers ask, not the order they
// commit: a transaction may commit delivery 11 while the one holding delivery 10 still runs.
// Delivering 11 then 10 would break the order, so only the rows of transactions older than
// every transaction still running in this database (a watermark read first, in its own
// statement) are returned, in (transaction id, id) order: a transaction that has not committed
// yet can then only add rows after those. SQLite has one writer at a time: its ids are in commit
// order already.
func (s *Store) PendingDeliveries(ctx context.Context, destinationID int64, limit int) ([]PendingDelivery, error) {
	q := s.q(ctx).Table("stream_deliveries AS p").
		Select("p.id AS delivery_id, a.name AS account, e.*").
		Joins("JOIN events e ON e.id = p.event_id").
		Joins("JOIN accounts a ON a.id = e.account_id").
		Where("p.destination_id = ?", destinationID)
	if s.dialect == migrations.Postgres {
		var watermark int64
		if err := s.q(ctx).Raw(`SELECT COALESCE(
			(SELECT MIN(backend_xid::text::bigint) FROM pg_stat_activity WHERE datname = current_database() AND backend_xid IS NOT NULL),
			pg_snapshot_xmax(pg_current_snapshot())::text::bigint)`).Scan(&watermark).Error; err != nil {
			return nil, wrap(err)
		}
		q = q.Where("p.txid < ?", watermark)
	}
	var out []PendingDelivery
	err := q.Order("p.txid, p.id").Limit(limit).Scan(&out).Error
	return out, wrap(err)
}

// DeleteDeliveries removes deliveries made.
func (s *Store) DeleteDeliveries(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	return wrap(s.q(ctx).Exec("DELETE FROM stream_deliveries WHERE id IN ?", ids).Error)
}

// attemptsKept is how many attempts the delivery log keeps per destination.
const attemptsKept = 50

// RecordStreamAttempts appends attempts of a destination to its log, keeps the newest
// attemptsKept, and notes the last success and the last error ("" after a success) on the
// destination.
func (s *Store) RecordStreamAttempts(ctx context.Context, destinationID int64, as []models.StreamAttempt) error {
	if len(as) == 0 {
		return nil
	}
	for i := range as {
		as[i].DestinationID = destinationID
	}
	return s.Tx(ctx, func(tx *Store) error {
		if err := tx.q(ctx).CreateInBatches(as, tx.insertBatch(500)).Error; err != nil {
			return wrap(err)
		}
		if err := tx.q(ctx).Exec(`DELETE FROM stream_attempts WHERE destination_id = ? AND id <= (
			SELECT id FROM stream_attempts WHERE destination_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
			destinationID, destinationID, attemptsKept).Error; err != nil {
			return wrap(err)
		}
		last := as[len(as)-1]
		set := map[string]any{"last_error": ""}
		if !last.OK {
			set["last_error"] = last.Excerpt
		}
		for _, a := range as {
			if a.OK && a.EventID != 0 {
				set["last_delivered_at"] = a.AttemptedAt
			}
		}
		return wrap(tx.q(ctx).Model(&models.StreamDestination{}).Where("id = ?", destinationID).
			UpdateColumns(set).Error)
	})
}

// StreamAttempts returns a destination's newest attempts, newest first.
func (s *Store) StreamAttempts(ctx context.Context, destinationID int64, limit int) ([]models.StreamAttempt, error) {
	var out []models.StreamAttempt
	err := s.q(ctx).Where("destination_id = ?", destinationID).Order("id DESC").Limit(limit).Find(&out).Error
	return out, wrap(err)
}

// ExpiringCode is a code the expiry warning looked at: Warn says it was unused 24 hours (the
// horizon) before its expiry and still is.
type ExpiringCode struct {
	ID        int64
	AccountID int64
	SDPUserID int64
	CreatedAt time.Time
	ExpiresAt time.Time
	Warn      bool `gorm:"-"`
}

// MarkExpiringCodes marks up to limit codes, of every account, that are unused, unrevoked,
// not looked at yet and expire within horizon of now, and returns them (on PostgreSQL skipping
// rows another transaction holds, so that two servers take different codes). Warn is set on
// those that lived at least horizon (a code generated to last an hour gets no warning) and have
// not expired yet.
func (s *Store) MarkExpiringCodes(ctx context.Context, now time.Time, horizon time.Duration, limit int) ([]ExpiringCode, error) {
	var cs []ExpiringCode
	q := s.q(ctx).Table("registration_codes").Select("id, account_id, sdp_user_id, created_at, expires_at").
		Where("used_at IS NULL AND revoked_at IS NULL AND expiry_warned_at IS NULL AND expires_at <= ?", now.Add(horizon)).
		Order("expires_at").Limit(limit)
	if s.dialect == migrations.Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
	}
	if err := q.Scan(&cs).Error; err != nil || len(cs) == 0 {
		return nil, wrap(err)
	}
	ids := make([]int64, len(cs))
	for i := range cs {
		ids[i] = cs[i].ID
		cs[i].Warn = cs[i].ExpiresAt.After(now) && cs[i].ExpiresAt.Sub(cs[i].CreatedAt) >= horizon
	}
	return cs, wrap(s.q(ctx).Exec("UPDATE registration_codes SET expiry_warned_at = ? WHERE id IN ?", now, ids).Error)
}
