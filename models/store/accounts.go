package store

import (
	"context"

	"onramp/models"
)

// CreateAccount inserts a; a taken name is models.ErrConflict.
func (s *Store) CreateAccount(ctx context.Context, a *models.Account) error {
	return wrap(s.q(ctx).Create(a).Error)
}

// Account loads an account by id.
func (s *Store) Account(ctx context.Context, id int64) (*models.Account, error) {
	return first[models.Account](s.q(ctx).Where("id = ?", id))
}

// AccountByName loads an account by its slug.
func (s *Store) AccountByName(ctx context.Context, name string) (*models.Account, error) {
	return first[models.Account](s.q(ctx).Where("name = ?", name))
}

// UpdateAccount saves the given columns of an account.
func (s *Store) UpdateAccount(ctx context.Context, id int64, cols map[string]any) error {
	cols["updated_at"] = nowUTC()
	return affected(s.q(ctx).Model(&models.Account{}).Where("id = ?", id).Updates(cols))
}
