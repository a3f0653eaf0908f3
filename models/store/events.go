package store

import (
	"context"
	"errors"
	"strings"
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

// CodeIDMark stands for the code's id in the details of CreateCodeEvents' template.
const CodeIDMark = "{code_id}"

// CreateCodeEvents appends one event per code among the account's codes ids, each about the
// code's user (id and email), in code id order: tmpl gives the rest (time, type, actor,
// address), and its details with the code's id in place of CodeIDMark. The events are written
// by one INSERT … SELECT from the codes, whatever their number.
func (s *Store) CreateCodeEvents(ctx context.Context, accountID int64, ids []int64, tmpl *models.Event) error {
	if len(ids) == 0 {
		return nil
	}
	before, after, ok := strings.Cut(tmpl.Details, CodeIDMark)
	if !ok {
		return errors.New("store: code events whose details do not name the code")
	}
	at := tmpl.OccurredAt
	if at.IsZero() {
		at = time.Now().UTC()
	}
	in, arg := s.inIDs("c.id", ids)
	defer s.eventsWritten()
	return wrap(s.q(ctx).Exec(`INSERT INTO events (account_id, occurred_at, type, sub_type, actor_type, actor_id, actor_label,
			email, sdp_user_id, source_ip, details)
		SELECT c.account_id, ?, ?, ?, ?, ?, ?, u.email, u.id, ?, CAST(? AS TEXT) || CAST(c.id AS TEXT) || CAST(? AS TEXT)
		FROM registration_codes c JOIN sdp_users u ON u.id = c.sdp_user_id
		WHERE c.account_id = ? AND `+in+` ORDER BY c.id`,
		at, tmpl.Type, tmpl.SubType, tmpl.ActorType, tmpl.ActorID, tmpl.ActorLabel, tmpl.SourceIP, before, after, accountID, arg).Error)
}
