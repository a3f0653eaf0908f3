package store

import (
	"context"

	"gorm.io/gorm"

	"onramp/models"
)

// CreateUser inserts an SDP user; a taken email in the account is models.ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u *models.SDPUser) error {
	u.NameKey = models.UserNameKey(u.FirstName, u.LastName)
	s.originsChanged(u.AccountID)
	return wrap(s.q(ctx).Create(u).Error)
}

// userCodes selects the columns models.SDPUser reads from the user's codes, by the index on
// the codes' user: had_code (the user has a code: codes are only deleted with their user) and
// active_codes (their codes still holding a sealed copy: not used, revoked or wiped after
// expiry). had_code is a scalar subquery with a LIMIT, not EXISTS: PostgreSQL may run an EXISTS
// of the select list as one hashed scan of every code, whatever the page's 50 rows.
const userCodes = `COALESCE((SELECT TRUE FROM registration_codes c WHERE c.account_id = sdp_users.account_id AND c.sdp_user_id = sdp_users.id LIMIT 1), FALSE) AS had_code,
	(SELECT COUNT(*) FROM registration_codes c WHERE c.account_id = sdp_users.account_id AND c.sdp_user_id = sdp_users.id
		AND c.encrypted <> '') AS active_codes`

// withCodes reads the users of q with the columns of userCodes.
func withCodes(q *gorm.DB) *gorm.DB {
	return q.Table("sdp_users").Select("sdp_users.*, " + userCodes)
}

// User loads an SDP user of an account.
func (s *Store) User(ctx context.Context, accountID, id int64) (*models.SDPUser, error) {
	return first[models.SDPUser](withCodes(s.q(ctx)).Where("account_id = ? AND id = ?", accountID, id))
}

// UserByEmail loads an SDP user of an account by (normalised) email.
func (s *Store) UserByEmail(ctx context.Context, accountID int64, email string) (*models.SDPUser, error) {
	return first[models.SDPUser](withCodes(s.q(ctx)).Where("account_id = ? AND email = ?", accountID, email))
}

// updateUser saves the given columns of an SDP user of an account. Column names stay in this
// package: services call the methods below, named after what they do.
func (s *Store) updateUser(ctx context.Context, accountID, id int64, cols map[string]any) error {
	cols["updated_at"] = nowUTC()
	return affected(s.q(ctx).Model(&models.SDPUser{}).Where("account_id = ? AND id = ?", accountID, id).Updates(cols))
}

// SetUserPassword replaces the password hash of a user of an account.
func (s *Store) SetUserPassword(ctx context.Context, accountID, id int64, hash string) error {
	return s.updateUser(ctx, accountID, id, map[string]any{"password_hash": hash})
}

// ActivateUser sets the first password of a user of an account and makes them active.
func (s *Store) ActivateUser(ctx context.Context, accountID, id int64, hash string) error {
	return s.updateUser(ctx, accountID, id, map[string]any{"password_hash": hash, "activation": models.ActivationActive})
}

// SetUserTOTP stores the sealed TOTP key of a user of an account, with the time step of the
// code that confirmed it, and marks them as having MFA.
func (s *Store) SetUserTOTP(ctx context.Context, accountID, id int64, sealed string, step int64) error {
	return s.updateUser(ctx, accountID, id, map[string]any{"mfa_configured": true, "totp_secret": sealed, "totp_last_step": step})
}

// ClearUserTOTP removes the TOTP key of a user of an account: no MFA any more.
func (s *Store) ClearUserTOTP(ctx context.Context, accountID, id int64) error {
	return s.updateUser(ctx, accountID, id, map[string]any{"mfa_configured": false, "totp_secret": ""})
}

// SaveUserProfile saves the name, email and phone of u (a user of u.AccountID) and the sort key
// of its name; an email another user of the account has is models.ErrConflict.
func (s *Store) SaveUserProfile(ctx context.Context, u *models.SDPUser) error {
	u.NameKey = models.UserNameKey(u.FirstName, u.LastName)
	return s.updateUser(ctx, u.AccountID, u.ID, map[string]any{"first_name": u.FirstName, "last_name": u.LastName,
		"email": u.Email, "phone": u.Phone, "name_key": u.NameKey})
}

// ClearUsersTOTP turns MFA off for users of an account (an admin's Remove MFA): the sealed key
// and the last used time step go with it.
func (s *Store) ClearUsersTOTP(ctx context.Context, accountID int64, ids []int64) error {
	return wrap(s.q(ctx).Model(&models.SDPUser{}).Where("account_id = ? AND id IN ?", accountID, ids).
		Updates(map[string]any{"mfa_configured": false, "totp_secret": "", "totp_last_step": 0, "updated_at": nowUTC()}).Error)
}

// CreateUsers inserts users in batches (demo data, imports); emails must be new.
func (s *Store) CreateUsers(ctx context.Context, us []*models.SDPUser) error {
	for i, u := range us {
		u.NameKey = models.UserNameKey(u.FirstName, u.LastName)
		if i == 0 || u.AccountID != us[i-1].AccountID {
			s.originsChanged(u.AccountID)
		}
	}
	return wrap(s.q(ctx).CreateInBatches(us, s.insertBatch(500)).Error)
}
