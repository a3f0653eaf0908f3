package store

import (
	"context"

	"onramp/migrations"
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

// LockAccount loads an account and holds its row until the transaction ends, so that changes
// that must see each other (a switch of the provisioning method and an MFA enrollment) take
// turns (PostgreSQL; SQLite's IMMEDIATE transactions already hold the write lock).
func (s *Store) LockAccount(ctx context.Context, id int64) (*models.Account, error) {
	q := s.q(ctx).Where("id = ?", id)
	if s.dialect == migrations.Postgres {
		q = q.Clauses(lockForUpdate)
	}
	return first[models.Account](q)
}

// AccountByName loads an account by its slug.
func (s *Store) AccountByName(ctx context.Context, name string) (*models.Account, error) {
	return first[models.Account](s.q(ctx).Where("name = ?", name))
}

// SaveProvisioning saves the User Provisioning settings of a: its method, invitation options,
// code expiry and SSO flag.
func (s *Store) SaveProvisioning(ctx context.Context, a *models.Account) error {
	a.UpdatedAt = nowUTC()
	return affected(s.q(ctx).Model(&models.Account{}).Where("id = ?", a.ID).
		Select("provisioning_method", "invite_manual", "invite_directory", "notify_disabled", "code_expiry_hours",
			"code_expiry_unit", "sso_enabled", "updated_at").Updates(a))
}

// AccountNames lists up to limit account names, in order. Only the command line uses it, to
// tell an operator which accounts a database holds: the console never lists other tenants.
func (s *Store) AccountNames(ctx context.Context, limit int) ([]string, error) {
	var names []string
	err := s.q(ctx).Model(&models.Account{}).Order("name").Limit(limit).Pluck("name", &names).Error
	return names, wrap(err)
}
