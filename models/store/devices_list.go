package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"onramp/models"
)

// DeviceFilter narrows the account's Devices list; zero values do not filter.
type DeviceFilter struct {
	State    string // "active", "signed_out" or ""
	Platform string
	Via      string // models.ViaCode, models.ViaPassword or ""
	Q        string // a part of the device's name or of its user's email
}

// DevicePage is one page of the Devices list, newest first.
type DevicePage struct {
	Devices []models.Device
	// Next is the cursor of the following page, "" on the last one; Prev that of the page
	// before, "" on the first one.
	Next, Prev string
}

// deviceSearchFence is how many devices a search may match and still be read through its
// indexes then sorted (fenceFew), rather than by walking the list's order.
const deviceSearchFence = 10_000

// newestFirst orders by id, newest first.
var newestFirst = keyOrder{}

// ListDevices returns a page of an account's devices, newest first, after or before a cursor.
// The search matches a part of the name (served on PostgreSQL by a trigram index, migration
// 00017) or of the user's email (the users' trigram index), as the Users list's does.
func (s *Store) ListDevices(ctx context.Context, accountID int64, f DeviceFilter, at Keyset, limit int) (DevicePage, error) {
	base := func() *gorm.DB {
		q := s.q(ctx).Table("devices").Where("account_id = ?", accountID)
		switch f.State {
		case "active":
			q = q.Where("revoked_at IS NULL")
		case "signed_out":
			q = q.Where("revoked_at IS NOT NULL")
		}
		if f.Platform != "" {
			q = q.Where("platform = ?", f.Platform)
		}
		if f.Via != "" {
			q = q.Where("registered_via = ?", f.Via)
		}
		if p := strings.ToLower(strings.TrimSpace(f.Q)); p != "" {
			like := "%" + escapeLike(p) + "%"
			q = q.Where(`(lower(name) LIKE ? ESCAPE '\' OR sdp_user_id IN (SELECT id FROM sdp_users WHERE account_id = ? AND email LIKE ? ESCAPE '\'))`,
				like, accountID, like)
		}
		return q
	}
	if strings.TrimSpace(f.Q) != "" {
		n, err := countUpTo(s.q(ctx), base(), deviceSearchFence+1)
		if err != nil {
			return DevicePage{}, err
		}
		base = s.fenceFew(ctx, base, "devices", n, deviceSearchFence)
	}
	rows, next, prev, err := keysetPage(base, newestFirst, at, limit, func(d *models.Device) string { return strconv.FormatInt(d.ID, 10) },
		findAll[models.Device])
	return DevicePage{Devices: rows, Next: next, Prev: prev}, err
}

// DevicePlatforms lists the distinct platforms of an account's devices, for the filter menu.
func (s *Store) DevicePlatforms(ctx context.Context, accountID int64) ([]string, error) {
	return s.distinct(ctx, "devices", "platform", accountID)
}

// UsersOf loads the account's users among ids, without locking them (to show who owns what).
func (s *Store) UsersOf(ctx context.Context, accountID int64, ids []int64) ([]models.SDPUser, error) {
	var rows []models.SDPUser
	if len(ids) == 0 {
		return nil, nil
	}
	return rows, wrap(s.q(ctx).Where("account_id = ? AND id IN ?", accountID, ids).Find(&rows).Error)
}

// DevicesByIDs loads the account's devices among ids (others' ids are silently not found).
func (s *Store) DevicesByIDs(ctx context.Context, accountID int64, ids []int64) ([]models.Device, error) {
	var rows []models.Device
	if len(ids) == 0 {
		return nil, nil
	}
	return rows, wrap(s.q(ctx).Where("account_id = ? AND id IN ?", accountID, ids).Order("id DESC").Find(&rows).Error)
}

// RevokeDevices signs out the account's active devices among ids (at most a few thousand per
// call) and lowers their users' devices counters; it returns the devices it signed out.
func (s *Store) RevokeDevices(ctx context.Context, accountID int64, ids []int64, now time.Time, reason string) ([]RevokedDevice, error) {
	return s.revokeDevicesWhere(ctx, accountID, "id", ids, now, reason)
}
