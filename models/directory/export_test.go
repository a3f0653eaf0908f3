package directory

import (
	"context"

	"onramp/models"
	"onramp/models/store"
)

// AddLDAP creates an LDAP directory of an account with its settings (the mapping from the
// preset, the bind password sealed), as the console's connection form does.
func (s *Service) AddLDAP(ctx context.Context, accountID int64, name string, l *models.LDAPSettings, password string) (*models.Directory, error) {
	now := s.now()
	d := &models.Directory{AccountID: accountID, Name: name, Kind: models.DirectoryLDAP, CreatedAt: now, UpdatedAt: now}
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreateDirectory(ctx, d); err != nil {
			return err
		}
		l.AccountID, l.DirectoryID, l.CreatedAt, l.UpdatedAt = accountID, d.ID, now, now
		if err := presetSettings(l); err != nil {
			return err
		}
		s.sealPassword(l, password)
		return tx.CreateLDAPSettings(ctx, l)
	})
	return d, err
}

// SetLDAPPassword seals a new bind password into l (saved by the caller).
func (s *Service) SetLDAPPassword(l *models.LDAPSettings, password string) {
	s.sealPassword(l, password)
}

// SetPageSize sets the page size of a sync's paged search.
func (s *Service) SetPageSize(n uint32) { s.pageSize = n }
