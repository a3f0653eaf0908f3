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
