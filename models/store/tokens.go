package store

import (
	"context"
	"time"

	"onramp/models"
)

// CreateToken inserts a one-time token.
func (s *Store) CreateToken(ctx context.Context, t *models.OneTimeToken) error {
	return wrap(s.q(ctx).Create(t).Error)
}

// ValidToken loads an unused, unexpired token of a purpose by its hash.
func (s *Store) ValidToken(ctx context.Context, p models.TokenPurpose, hash string, now time.Time) (*models.OneTimeToken, error) {
	return first[models.OneTimeToken](s.q(ctx).
		Where("purpose = ? AND token_hash = ? AND used_at IS NULL AND expires_at > ?", p, hash, now))
}

// LiveSetupToken loads the unused, unexpired setup link.
func (s *Store) LiveSetupToken(ctx context.Context, now time.Time) (*models.OneTimeToken, error) {
	return first[models.OneTimeToken](s.q(ctx).
		Where("purpose = ? AND used_at IS NULL AND expires_at > ?", models.TokenSetup, now).Order("id DESC").Limit(1))
}

// UseToken marks a token used, only if it still is unused: of two concurrent uses one gets
// models.ErrNotFound.
func (s *Store) UseToken(ctx context.Context, id int64, now time.Time) error {
	return affected(s.q(ctx).Model(&models.OneTimeToken{}).
		Where("id = ? AND used_at IS NULL", id).Update("used_at", now))
}

// RetireTokens marks every unused token of a purpose as used, for one admin or, with adminID 0,
// for tokens with no admin (setup links): older links die when a new one is issued.
func (s *Store) RetireTokens(ctx context.Context, p models.TokenPurpose, adminID int64, now time.Time) error {
	q := s.q(ctx).Model(&models.OneTimeToken{}).Where("purpose = ? AND used_at IS NULL", p)
	if adminID == 0 {
		q = q.Where("admin_id IS NULL")
	} else {
		q = q.Where("admin_id = ?", adminID)
	}
	return wrap(q.Update("used_at", now).Error)
}

// RetireUserTokens marks every unused token of a purpose of the given users as used: a new
// invitation kills the older links. It is planned for the users given (planEachTime): a
// directory's first sync invites its users a batch at a time.
func (s *Store) RetireUserTokens(ctx context.Context, p models.TokenPurpose, userIDs []int64, now time.Time) error {
	if len(userIDs) == 0 {
		return nil
	}
	in, arg := s.inIDs("sdp_user_id", userIDs)
	return s.planEachTime(ctx, len(userIDs), func() error {
		return wrap(s.q(ctx).Model(&models.OneTimeToken{}).Where("purpose = ? AND used_at IS NULL AND "+in, p, arg).Update("used_at", now).Error)
	})
}

// CreateTokens inserts tokens in batches.
func (s *Store) CreateTokens(ctx context.Context, ts []*models.OneTimeToken) error {
	if len(ts) == 0 {
		return nil
	}
	return wrap(s.q(ctx).CreateInBatches(ts, s.insertBatch(500)).Error)
}
