package store

import (
	"context"
	"errors"

	"gorm.io/gorm/clause"

	"onramp/models"
)

// ConsoleSSO loads how an account's admins sign in to the console; an account that never saved
// it gets the default (SSO off, password sign-in on).
func (s *Store) ConsoleSSO(ctx context.Context, accountID int64) (*models.ConsoleSSO, error) {
	c, err := first[models.ConsoleSSO](s.q(ctx).Where("account_id = ?", accountID))
	if errors.Is(err, models.ErrNotFound) {
		return &models.ConsoleSSO{AccountID: accountID, PasswordSignIn: true}, nil
	}
	return c, err
}

// SaveConsoleSSO creates or replaces an account's console SSO settings.
func (s *Store) SaveConsoleSSO(ctx context.Context, c *models.ConsoleSSO) error {
	c.UpdatedAt = nowUTC()
	return wrap(s.q(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "account_id"}}, UpdateAll: true}).Create(c).Error)
}

// SetBreakGlassAdmins makes exactly the given admins of an account its break-glass admins.
func (s *Store) SetBreakGlassAdmins(ctx context.Context, accountID int64, ids []int64) error {
	q := s.q(ctx).Model(&models.Admin{}).Where("account_id = ?", accountID)
	if len(ids) == 0 {
		return wrap(q.Update("break_glass", false).Error)
	}
	return wrap(q.Update("break_glass", clause.Expr{SQL: "id IN ?", Vars: []any{ids}}).Error)
}

// AdminByEmail loads the admin of an account with a (normalised) email.
func (s *Store) AdminByEmail(ctx context.Context, accountID int64, email string) (*models.Admin, error) {
	return first[models.Admin](s.q(ctx).Where("account_id = ? AND email = ?", accountID, email))
}
