package store

import (
	"context"
	"time"

	"onramp/models"
)

// CreateUser inserts an SDP user; a taken email in the account is models.ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u *models.SDPUser) error {
	u.NameKey = models.UserNameKey(u.FirstName, u.LastName)
	return wrap(s.q(ctx).Create(u).Error)
}

// User loads an SDP user of an account.
func (s *Store) User(ctx context.Context, accountID, id int64) (*models.SDPUser, error) {
	return first[models.SDPUser](s.q(ctx).Where("account_id = ? AND id = ?", accountID, id))
}

// UserByEmail loads an SDP user of an account by (normalised) email.
func (s *Store) UserByEmail(ctx context.Context, accountID int64, email string) (*models.SDPUser, error) {
	return first[models.SDPUser](s.q(ctx).Where("account_id = ? AND email = ?", accountID, email))
}

// UpdateUser saves the given columns of an SDP user of an account.
func (s *Store) UpdateUser(ctx context.Context, accountID, id int64, cols map[string]any) error {
	cols["updated_at"] = time.Now().UTC()
	return affected(s.q(ctx).Model(&models.SDPUser{}).Where("account_id = ? AND id = ?", accountID, id).Updates(cols))
}

// CreateUsers inserts users in batches (demo data, imports); emails must be new.
func (s *Store) CreateUsers(ctx context.Context, us []*models.SDPUser) error {
	for _, u := range us {
		u.NameKey = models.UserNameKey(u.FirstName, u.LastName)
	}
	return wrap(s.q(ctx).CreateInBatches(us, 500).Error)
}
