package store

import (
	"context"
	"time"

	"onramp/models"
)

// CreateEvent appends an event, stamped now unless it already has a time.
func (s *Store) CreateEvent(ctx context.Context, e *models.Event) error {
	if e.OccurredAt.IsZero() {
		e.OccurredAt = time.Now().UTC()
	}
	if err := s.q(ctx).Create(e).Error; err != nil {
		return wrap(err)
	}
	s.eventsWritten()
	return nil
}

// RecordEvent writes e even when ctx is cancelled (a download whose client went away still
// happened), giving up after 10 seconds.
func (s *Store) RecordEvent(ctx context.Context, e *models.Event) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return s.CreateEvent(ctx, e)
}

// RecentEvents returns an account's newest events.
func (s *Store) RecentEvents(ctx context.Context, accountID int64, limit int) ([]models.Event, error) {
	var rows []models.Event
	err := s.q(ctx).Where("account_id = ?", accountID).
		Order("occurred_at DESC, id DESC").Limit(limit).Find(&rows).Error
	return rows, wrap(err)
}

// CreateEvents appends events in batches, stamping those without a time.
func (s *Store) CreateEvents(ctx context.Context, es []*models.Event) error {
	if len(es) == 0 {
		return nil
	}
	now := time.Now().UTC()
	for _, e := range es {
		if e.OccurredAt.IsZero() {
			e.OccurredAt = now
		}
	}
	if err := s.q(ctx).CreateInBatches(es, s.insertBatch(500)).Error; err != nil {
		return wrap(err)
	}
	s.eventsWritten()
	return nil
}

// UserEvents returns the newest events about one SDP user of an account.
func (s *Store) UserEvents(ctx context.Context, accountID, userID int64, limit int) ([]models.Event, error) {
	var rows []models.Event
	err := s.q(ctx).Where("account_id = ? AND sdp_user_id = ?", accountID, userID).
		Order("occurred_at DESC, id DESC").Limit(limit).Find(&rows).Error
	return rows, wrap(err)
}
