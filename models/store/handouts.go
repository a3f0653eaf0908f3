package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"onramp/models"
)

// Code handouts: the batch of codes one admin just generated, shown once and downloaded once.

// CreateHandout inserts a handout, filling in its id.
func (s *Store) CreateHandout(ctx context.Context, h *models.CodeHandout) error {
	return wrap(s.q(ctx).Create(h).Error)
}

// Handout loads a handout of an account's admin: another admin's, or another account's, is not
// found.
func (s *Store) Handout(ctx context.Context, accountID, adminID, id int64) (*models.CodeHandout, error) {
	return first[models.CodeHandout](s.q(ctx).Where("id = ? AND account_id = ? AND admin_id = ?", id, accountID, adminID))
}

// HandoutForRun loads the handout a background Users action fills.
func (s *Store) HandoutForRun(ctx context.Context, accountID, runID int64) (*models.CodeHandout, error) {
	return first[models.CodeHandout](s.q(ctx).Where("account_id = ? AND run_id = ?", accountID, runID))
}

// CountHandout adds what one batch of a generation did to its handout's counts.
func (s *Store) CountHandout(ctx context.Context, accountID, id int64, generated, skipped, skippedMFA int) error {
	return affected(s.q(ctx).Model(&models.CodeHandout{}).Where("id = ? AND account_id = ?", id, accountID).UpdateColumns(map[string]any{
		"generated":   gorm.Expr("generated + ?", generated),
		"skipped":     gorm.Expr("skipped + ?", skipped),
		"skipped_mfa": gorm.Expr("skipped_mfa + ?", skippedMFA),
	}))
}

// HandoutUse is what taking a handout's codes does with them: show them or download them.
type HandoutUse int

const (
	HandoutShow HandoutUse = iota
	HandoutDownload
)

// TakeHandout records, in one conditional UPDATE, that the admin's handout was shown (or
// downloaded) at now: of two concurrent requests exactly one takes it. A handout already taken
// that way is models.ErrGone; an unknown one, or another admin's, models.ErrNotFound.
func (s *Store) TakeHandout(ctx context.Context, accountID, adminID, id int64, use HandoutUse, now time.Time) error {
	column := "shown_at"
	if use == HandoutDownload {
		column = "downloaded_at"
	}
	res := s.q(ctx).Model(&models.CodeHandout{}).Where("id = ? AND account_id = ? AND admin_id = ? AND "+column+" IS NULL", id, accountID, adminID).
		Update(column, now)
	if err := affected(res); err == nil || res.Error != nil {
		return err
	}
	if _, err := s.Handout(ctx, accountID, adminID, id); err != nil {
		return err
	}
	return models.ErrGone
}

// HandoutCodesAfter returns up to limit of the active codes of an account's handout with ids
// above after, in id order, with their users' names (as the CSV reads them).
func (s *Store) HandoutCodesAfter(ctx context.Context, accountID, handoutID int64, now time.Time, after int64, limit int) ([]CodeExportRow, error) {
	return s.activeCodesAfter(ctx, accountID, &handoutID, now, after, limit)
}

// CodeDelivery is a way a code reached its user: the user page lists each.
type CodeDelivery int

const (
	DeliveredShown CodeDelivery = iota
	DeliveredCSV
)

// MarkCodesDelivered records that the account's codes among ids were delivered that way at now
// (the first time only).
func (s *Store) MarkCodesDelivered(ctx context.Context, accountID int64, ids []int64, how CodeDelivery, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	column := "shown_at"
	if how == DeliveredCSV {
		column = "csv_at"
	}
	return wrap(s.q(ctx).Model(&models.RegistrationCode{}).Where("account_id = ? AND id IN ? AND "+column+" IS NULL", accountID, ids).
		Update(column, now).Error)
}
