package store

import (
	"context"

	"onramp/models"
)

// CreateLDAPSettings inserts the LDAP settings of a directory (created in the same transaction).
func (s *Store) CreateLDAPSettings(ctx context.Context, l *models.LDAPSettings) error {
	return wrap(s.q(ctx).Create(l).Error)
}

// LDAPSettings loads the LDAP settings of a directory of an account.
func (s *Store) LDAPSettings(ctx context.Context, accountID, directoryID int64) (*models.LDAPSettings, error) {
	return first[models.LDAPSettings](s.q(ctx).Where("account_id = ? AND directory_id = ?", accountID, directoryID))
}

// SaveLDAPSettings writes every field of a directory's LDAP settings.
func (s *Store) SaveLDAPSettings(ctx context.Context, l *models.LDAPSettings) error {
	return affected(s.q(ctx).Model(&models.LDAPSettings{}).Where("account_id = ? AND directory_id = ?", l.AccountID, l.DirectoryID).
		Select("*").Omit("directory_id", "account_id", "created_at").Updates(l))
}
