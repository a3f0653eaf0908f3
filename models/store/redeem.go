package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"onramp/models"
)

// RedeemCode marks the active code with this lookup hash used, in one conditional UPDATE: of
// any number of concurrent redemptions exactly one matches the row (PostgreSQL re-checks the
// WHERE clause on the row version the first writer committed; SQLite's IMMEDIATE transactions
// run one at a time), so there is no read-then-write window. The encrypted copy is wiped in the
// same statement. It returns the code's id, account and user, or models.ErrNotFound when no
// active code has the hash (unknown, used, revoked or expired: see CodeByLookup).
func (s *Store) RedeemCode(ctx context.Context, lookupHash string, now time.Time) (*models.RegistrationCode, error) {
	var rows []struct {
		ID        int64
		AccountID int64
		SDPUserID int64
	}
	// RETURNING carries integers only: SQLite does not declare the column types of RETURNING
	// rows, and times read back without them would not scan.
	err := s.q(ctx).Raw(`UPDATE registration_codes SET used_at = ?, encrypted = ''
		WHERE lookup_hash = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?
		RETURNING id, account_id, sdp_user_id`, now, lookupHash, now).Scan(&rows).Error
	if err != nil {
		return nil, wrap(err)
	}
	if len(rows) == 0 {
		return nil, models.ErrNotFound
	}
	r := rows[0]
	return &models.RegistrationCode{ID: r.ID, AccountID: r.AccountID, SDPUserID: r.SDPUserID, LookupHash: lookupHash, UsedAt: &now}, nil
}

// CodeByLookup loads a code by its lookup hash, whatever its state (a redemption that matched
// nothing says why with it). Not scoped by account: the hash of a 79-bit secret is the scope.
func (s *Store) CodeByLookup(ctx context.Context, lookupHash string) (*models.RegistrationCode, error) {
	return first[models.RegistrationCode](s.q(ctx).Where("lookup_hash = ?", lookupHash))
}

// SetCodeDevice records the device a used code registered, and the address it came from.
func (s *Store) SetCodeDevice(ctx context.Context, accountID, codeID, deviceID int64, ip string) error {
	return affected(s.q(ctx).Model(&models.RegistrationCode{}).
		Where("account_id = ? AND id = ?", accountID, codeID).UpdateColumns(&models.RegistrationCode{DeviceID: &deviceID, UsedIP: ip}))
}

// CountRedemption moves one code of an enabled user without MFA from active_codes to devices.
// It matches nothing (models.ErrNotFound) when the user is disabled or has MFA configured
// (codes do not support MFA): the caller rolls back, so such a user's code is not consumed.
// Updating the user's row also orders the redemption with a concurrent Disable or MFA
// enrollment of the same user (each writes that row): either the redemption commits first and
// the other change comes after the device exists, or the other change commits first and this
// matches nothing (PostgreSQL re-checks the WHERE clause on the committed row).
func (s *Store) CountRedemption(ctx context.Context, accountID, userID int64) error {
	return affected(s.q(ctx).Model(&models.SDPUser{}).
		Where("account_id = ? AND id = ? AND status = ? AND mfa_configured = ?", accountID, userID, models.UserEnabled, false).
		UpdateColumns(map[string]any{
			"active_codes": decrement("active_codes", 1),
			"devices":      gorm.Expr("devices + 1"),
		}))
}
