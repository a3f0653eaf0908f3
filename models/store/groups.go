package store

import (
	"context"
	"slices"
	"strings"

	"gorm.io/gorm/clause"

	"onramp/models"
)

// CreateGroup inserts a directory group; a displayName the directory has is models.ErrConflict.
func (s *Store) CreateGroup(ctx context.Context, g *models.DirectoryGroup) error {
	return wrap(s.q(ctx).Create(g).Error)
}

// SaveGroup saves a group's displayName, externalId and update time.
func (s *Store) SaveGroup(ctx context.Context, g *models.DirectoryGroup) error {
	return wrap(s.q(ctx).Model(&models.DirectoryGroup{}).Where("account_id = ? AND id = ?", g.AccountID, g.ID).
		Updates(map[string]any{"display_name": g.DisplayName, "external_id": g.ExternalID, "updated_at": g.UpdatedAt}).Error)
}

// Group loads a group of a directory.
func (s *Store) Group(ctx context.Context, accountID, directoryID, id int64) (*models.DirectoryGroup, error) {
	return first[models.DirectoryGroup](s.q(ctx).Where("account_id = ? AND directory_id = ? AND id = ?", accountID, directoryID, id))
}

// DeleteGroup removes a group of a directory and its memberships.
func (s *Store) DeleteGroup(ctx context.Context, accountID, directoryID, id int64) error {
	res := s.q(ctx).Where("account_id = ? AND directory_id = ? AND id = ?", accountID, directoryID, id).Delete(&models.DirectoryGroup{})
	if res.Error == nil && res.RowsAffected == 0 {
		return models.ErrNotFound
	}
	return wrap(res.Error)
}

// Groups returns the groups of a directory (those named displayName, case-insensitively, when
// it is set) in id order, skipping offset and at most limit of them, with how many match.
func (s *Store) Groups(ctx context.Context, accountID, directoryID int64, displayName *string, offset, limit int) ([]models.DirectoryGroup, int64, error) {
	q := s.q(ctx).Model(&models.DirectoryGroup{}).Where("account_id = ? AND directory_id = ?", accountID, directoryID)
	if displayName != nil {
		q = q.Where("lower(display_name) = ?", strings.ToLower(*displayName))
	}
	return offsetPage[models.DirectoryGroup](q, offset, limit)
}

// AccountGroups returns every group of an account by name (the console's filter).
func (s *Store) AccountGroups(ctx context.Context, accountID int64) ([]models.DirectoryGroup, error) {
	var rows []models.DirectoryGroup
	return rows, wrap(s.q(ctx).Where("account_id = ?", accountID).Order("display_name, id").Find(&rows).Error)
}

// UserGroups returns the groups a user of the account is a member of, by name.
func (s *Store) UserGroups(ctx context.Context, accountID, userID int64) ([]models.DirectoryGroup, error) {
	var rows []models.DirectoryGroup
	return rows, wrap(s.q(ctx).Where("account_id = ? AND id IN (?)", accountID,
		s.q(ctx).Model(&models.DirectoryGroupMember{}).Select("group_id").Where("account_id = ? AND user_id = ?", accountID, userID)).
		Order("display_name, id").Find(&rows).Error)
}

// GroupMembers returns the users of a group in id order.
func (s *Store) GroupMembers(ctx context.Context, accountID, groupID int64) ([]models.SDPUser, error) {
	var rows []models.SDPUser
	return rows, wrap(s.q(ctx).Where("account_id = ? AND id IN (?)", accountID,
		s.q(ctx).Model(&models.DirectoryGroupMember{}).Select("user_id").Where("account_id = ? AND group_id = ?", accountID, groupID)).
		Order("id").Find(&rows).Error)
}

// memberBatch is how many members one statement adds or removes: a group PUT may name tens of
// thousands, more than SQLite takes as parameters of one statement.
const memberBatch = 1000

// AddGroupMembers adds users to a group; those already in it stay.
func (s *Store) AddGroupMembers(ctx context.Context, accountID, groupID int64, userIDs []int64) error {
	if len(userIDs) == 0 {
		return nil
	}
	rows := make([]models.DirectoryGroupMember, len(userIDs))
	for i, id := range userIDs {
		rows[i] = models.DirectoryGroupMember{AccountID: accountID, GroupID: groupID, UserID: id}
	}
	return wrap(s.q(ctx).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(&rows, memberBatch).Error)
}

// RemoveGroupMembers removes users from a group (all of them when userIDs is nil).
func (s *Store) RemoveGroupMembers(ctx context.Context, accountID, groupID int64, userIDs []int64) error {
	if userIDs == nil {
		return wrap(s.q(ctx).Where("account_id = ? AND group_id = ?", accountID, groupID).Delete(&models.DirectoryGroupMember{}).Error)
	}
	for ids := range slices.Chunk(userIDs, memberBatch) {
		err := s.q(ctx).Where("account_id = ? AND group_id = ? AND user_id IN ?", accountID, groupID, ids).Delete(&models.DirectoryGroupMember{}).Error
		if err != nil {
			return wrap(err)
		}
	}
	return nil
}
