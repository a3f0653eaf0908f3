package store

import (
	"context"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"onramp/models"
)

// CreateDevice inserts a device.
func (s *Store) CreateDevice(ctx context.Context, d *models.Device) error {
	return wrap(s.q(ctx).Create(d).Error)
}

// DeviceByTokenHash loads a device by the hash of its credential. Not scoped by account: the
// 256-bit token is the scope.
func (s *Store) DeviceByTokenHash(ctx context.Context, hash string) (*models.Device, error) {
	return first[models.Device](s.q(ctx).Where("token_hash = ?", hash))
}

// TouchDevice records that a device was seen at at, only if it was last seen before ifBefore:
// a client that checks its session every few seconds costs one write a minute, not one a check.
func (s *Store) TouchDevice(ctx context.Context, id int64, at, ifBefore time.Time) error {
	return wrap(s.q(ctx).Model(&models.Device{}).
		Where("id = ? AND last_seen_at < ?", id, ifBefore).Update("last_seen_at", at).Error)
}

// UserDevices lists up to limit devices of a user of an account, newest first.
func (s *Store) UserDevices(ctx context.Context, accountID, userID int64, limit int) ([]models.Device, error) {
	var rows []models.Device
	err := s.q(ctx).Where("account_id = ? AND sdp_user_id = ?", accountID, userID).
		Order("id DESC").Limit(limit).Find(&rows).Error
	return rows, wrap(err)
}

// Device loads a device of a user of an account.
func (s *Store) Device(ctx context.Context, accountID, userID, id int64) (*models.Device, error) {
	return first[models.Device](s.q(ctx).Where("account_id = ? AND sdp_user_id = ? AND id = ?", accountID, userID, id))
}

// RevokeDevice ends the credential of a device of a user of an account if it is still active;
// otherwise (already signed out, or not theirs) models.ErrNotFound. Of two concurrent sign-outs
// one matches.
func (s *Store) RevokeDevice(ctx context.Context, accountID, userID, id int64, now time.Time, reason string) error {
	return affected(s.q(ctx).Model(&models.Device{}).
		Where("account_id = ? AND sdp_user_id = ? AND id = ? AND revoked_at IS NULL", accountID, userID, id).
		Updates(map[string]any{"revoked_at": now, "revoked_reason": reason}))
}

// CountNewDevice adds a device to the counter of an enabled user of an account; for a disabled
// user it matches nothing (models.ErrNotFound), so that the caller rolls the registration back.
func (s *Store) CountNewDevice(ctx context.Context, accountID, userID int64) error {
	return affected(s.q(ctx).Model(&models.SDPUser{}).
		Where("account_id = ? AND id = ? AND status = ?", accountID, userID, models.UserEnabled).
		UpdateColumn("devices", gorm.Expr("devices + 1")))
}

// UncountDevice takes a signed-out device off the counter of a user of an account.
func (s *Store) UncountDevice(ctx context.Context, accountID, userID int64) error {
	return wrap(s.q(ctx).Model(&models.SDPUser{}).Where("account_id = ? AND id = ?", accountID, userID).
		UpdateColumn("devices", decrement("devices", 1)).Error)
}

// RevokedDevice is a device RevokeUsersDevices or RevokeDevices signed out.
type RevokedDevice struct {
	ID        int64
	SDPUserID int64
	Name      string
}

// RevokeUsersDevices signs out every active device of the given users of an account (at most a
// few thousand ids per call: callers batch) and lowers their devices counters. The UPDATE
// returns exactly the rows it changed, so a device registered concurrently is either signed
// out and counted here or left alone, never counted wrong.
func (s *Store) RevokeUsersDevices(ctx context.Context, accountID int64, userIDs []int64, now time.Time, reason string) ([]RevokedDevice, error) {
	return s.revokeDevicesWhere(ctx, accountID, "sdp_user_id", userIDs, now, reason)
}

// revokeDevicesWhere signs out the account's active devices whose col (a constant of this
// package: "id" or "sdp_user_id") is among ids, and lowers their users' devices counters.
func (s *Store) revokeDevicesWhere(ctx context.Context, accountID int64, col string, ids []int64, now time.Time, reason string) ([]RevokedDevice, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []RevokedDevice
	// RETURNING carries no times: SQLite does not declare the column types of RETURNING rows.
	err := s.q(ctx).Raw(`UPDATE devices SET revoked_at = ?, revoked_reason = ?
		WHERE account_id = ? AND `+col+` IN ? AND revoked_at IS NULL
		RETURNING id, sdp_user_id, name`, now, reason, accountID, ids).Scan(&out).Error
	if err != nil || len(out) == 0 {
		return nil, wrap(err)
	}
	// One UPDATE per distinct number of devices signed out (almost always just 1 and 2).
	perUser := map[int64]int{}
	for _, d := range out {
		perUser[d.SDPUserID]++
	}
	byCount := map[int][]int64{}
	for id, n := range perUser {
		byCount[n] = append(byCount[n], id)
	}
	for n, ids := range byCount {
		err := s.q(ctx).Model(&models.SDPUser{}).Where("account_id = ? AND id IN ?", accountID, ids).
			UpdateColumn("devices", decrement("devices", n)).Error
		if err != nil {
			return nil, wrap(err)
		}
	}
	return out, nil
}

// decrement lowers a counter column by n, never below 0 (a counter that drifted must not go
// negative on the pages). col is always a constant of this package.
func decrement(col string, n int) clause.Expr {
	k := strconv.Itoa(n)
	return gorm.Expr("CASE WHEN " + col + " > " + k + " THEN " + col + " - " + k + " ELSE 0 END")
}

// CreateDevices inserts devices in batches, filling in their ids (demo data).
func (s *Store) CreateDevices(ctx context.Context, ds []*models.Device) error {
	if len(ds) == 0 {
		return nil
	}
	return wrap(s.q(ctx).CreateInBatches(ds, s.insertBatch(1000)).Error)
}
