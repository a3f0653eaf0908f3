package store

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"onramp/models"
)

// CreateDirectory inserts a directory; a name the account already has is models.ErrConflict.
func (s *Store) CreateDirectory(ctx context.Context, d *models.Directory) error {
	return wrap(s.q(ctx).Create(d).Error)
}

// DirectoryByName loads a directory of an account by its name.
func (s *Store) DirectoryByName(ctx context.Context, accountID int64, name string) (*models.Directory, error) {
	return first[models.Directory](s.q(ctx).Where("account_id = ? AND name = ?", accountID, name))
}

// CreateDirectoryToken inserts a SCIM token (its hash).
func (s *Store) CreateDirectoryToken(ctx context.Context, t *models.DirectoryToken) error {
	return wrap(s.q(ctx).Create(t).Error)
}

// LiveDirectoryToken loads the unrevoked token with this hash and its directory.
func (s *Store) LiveDirectoryToken(ctx context.Context, hash string) (*models.DirectoryToken, *models.Directory, error) {
	t, err := first[models.DirectoryToken](s.q(ctx).Where("token_hash = ? AND revoked_at IS NULL", hash))
	if err != nil {
		return nil, nil, err
	}
	d, err := first[models.Directory](s.q(ctx).Where("account_id = ? AND id = ?", t.AccountID, t.DirectoryID))
	if err != nil {
		return nil, nil, err
	}
	return t, d, nil
}

// TouchDirectoryToken records when and from where a token was last used.
func (s *Store) TouchDirectoryToken(ctx context.Context, accountID, id int64, at time.Time, ip string) error {
	return wrap(s.q(ctx).Model(&models.DirectoryToken{}).Where("account_id = ? AND id = ?", accountID, id).
		Updates(map[string]any{"last_used_at": at, "last_used_ip": ip}).Error)
}

// DirectoryUserFilter narrows the users of a directory: each set field must match (Email is
// the normalised email; UserName is compared case-insensitively).
type DirectoryUserFilter struct {
	UserName   *string
	Email      *string
	ExternalID *string
}

// DirectoryUsers returns the users of a directory matching f in id order, skipping offset and
// at most limit of them (none when limit is 0), with how many match in all.
func (s *Store) DirectoryUsers(ctx context.Context, accountID, directoryID int64, f DirectoryUserFilter, offset, limit int) ([]models.SDPUser, int64, error) {
	q := s.q(ctx).Model(&models.SDPUser{}).Where("account_id = ? AND directory_id = ?", accountID, directoryID)
	if f.Email != nil {
		q = q.Where("email = ?", *f.Email)
	}
	if f.ExternalID != nil {
		q = q.Where("external_id = ?", *f.ExternalID)
	}
	if f.UserName != nil {
		q = q.Where("lower(user_name) = ?", strings.ToLower(*f.UserName))
	}
	return offsetPage[models.SDPUser](q, offset, limit)
}

// offsetPage is a SCIM page of q: rows in id order, skipping offset and at most limit of them
// (none when limit is 0), with how many match in all.
func offsetPage[T any](q *gorm.DB, offset, limit int) ([]T, int64, error) {
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, wrap(err)
	}
	var rows []T
	if limit == 0 || int64(offset) >= total {
		return rows, total, nil
	}
	return rows, total, wrap(q.Order("id").Offset(offset).Limit(limit).Find(&rows).Error)
}

// DirectoryUser loads a user of a directory, locked for update on PostgreSQL.
func (s *Store) DirectoryUser(ctx context.Context, accountID, directoryID, id int64) (*models.SDPUser, error) {
	us, err := s.UsersByIDs(ctx, accountID, []int64{id})
	if err != nil {
		return nil, err
	}
	if len(us) == 0 || us[0].DirectoryID == nil || *us[0].DirectoryID != directoryID {
		return nil, models.ErrNotFound
	}
	return &us[0], nil
}

// SetUserDirectoryIDs saves the directory's id and userName of a user of an account; a
// userName or externalId another user of the directory has is models.ErrConflict.
func (s *Store) SetUserDirectoryIDs(ctx context.Context, accountID, id int64, externalID, userName *string) error {
	return s.updateUser(ctx, accountID, id, map[string]any{"external_id": externalID, "user_name": userName})
}

// DirectoryByID loads a directory of an account.
func (s *Store) DirectoryByID(ctx context.Context, accountID, id int64) (*models.Directory, error) {
	return first[models.Directory](s.q(ctx).Where("account_id = ? AND id = ?", accountID, id))
}

// Directories returns the directories of an account by name.
func (s *Store) Directories(ctx context.Context, accountID int64) ([]models.Directory, error) {
	var ds []models.Directory
	return ds, wrap(s.q(ctx).Where("account_id = ?", accountID).Order("name, id").Find(&ds).Error)
}

// DirectoryTokens returns the tokens of an account's directories, oldest first.
func (s *Store) DirectoryTokens(ctx context.Context, accountID int64) ([]models.DirectoryToken, error) {
	var ts []models.DirectoryToken
	return ts, wrap(s.q(ctx).Where("account_id = ?", accountID).Order("id").Find(&ts).Error)
}

// DirectoryUserCounts counts the users of each directory of an account.
func (s *Store) DirectoryUserCounts(ctx context.Context, accountID int64) (map[int64]int64, error) {
	var rows []struct {
		DirectoryID int64
		N           int64
	}
	err := s.q(ctx).Model(&models.SDPUser{}).Select("directory_id, COUNT(*) AS n").
		Where("account_id = ? AND directory_id IS NOT NULL", accountID).Group("directory_id").Scan(&rows).Error
	counts := make(map[int64]int64, len(rows))
	for _, r := range rows {
		counts[r.DirectoryID] = r.N
	}
	return counts, wrap(err)
}

// RevokeDirectoryToken revokes a live token of a directory of an account at at; a token that
// is not the directory's, or already revoked, is models.ErrNotFound.
func (s *Store) RevokeDirectoryToken(ctx context.Context, accountID, directoryID, id int64, at time.Time) (*models.DirectoryToken, error) {
	t, err := first[models.DirectoryToken](s.q(ctx).Where("account_id = ? AND directory_id = ? AND id = ? AND revoked_at IS NULL", accountID, directoryID, id))
	if err != nil {
		return nil, err
	}
	t.RevokedAt = &at
	return t, affected(s.q(ctx).Model(&models.DirectoryToken{}).Where("id = ? AND revoked_at IS NULL", t.ID).Update("revoked_at", at))
}
