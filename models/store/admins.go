package store

import (
	"context"
	"time"

	"onramp/migrations"
	"onramp/models"
)

// CreateAdmin inserts a; an email its account already has is models.ErrConflict.
func (s *Store) CreateAdmin(ctx context.Context, a *models.Admin) error {
	return wrap(s.q(ctx).Create(a).Error)
}

// CountAdmins counts admins of every account (first-run detection).
func (s *Store) CountAdmins(ctx context.Context) (int64, error) {
	var n int64
	err := s.q(ctx).Model(&models.Admin{}).Count(&n).Error
	return n, wrap(err)
}

// AdminsByEmail loads up to limit admins with a (normalised) email, whatever their account, the
// most recently signed in first, then the oldest: the sign-in form asks for an email and a
// password only, and one person may be an admin of several accounts (an email is unique in an
// account only).
func (s *Store) AdminsByEmail(ctx context.Context, email string, limit int) ([]models.Admin, error) {
	var rows []models.Admin
	err := s.q(ctx).Where("email = ?", email).Order("last_sign_in_at DESC NULLS LAST, id").Limit(limit).Find(&rows).Error
	return rows, wrap(err)
}

// AdminByID loads an admin by id without an account scope: only for resolving a session, whose
// row already names the admin.
func (s *Store) AdminByID(ctx context.Context, id int64) (*models.Admin, error) {
	return first[models.Admin](s.q(ctx).Where("id = ?", id))
}

// Admin loads an admin of an account.
func (s *Store) Admin(ctx context.Context, accountID, id int64) (*models.Admin, error) {
	return first[models.Admin](s.q(ctx).Where("account_id = ? AND id = ?", accountID, id))
}

// AdminPage is one page of an account's admins, ordered by id.
type AdminPage struct {
	Admins []models.Admin
	// NextAfter is the id to pass as after for the next page, or 0 on the last page.
	NextAfter int64
}

// ListAdmins returns up to limit admins of the account with an id above after (keyset).
func (s *Store) ListAdmins(ctx context.Context, accountID, after int64, limit int) (AdminPage, error) {
	var rows []models.Admin
	err := s.q(ctx).Where("account_id = ? AND id > ?", accountID, after).
		Order("id").Limit(limit + 1).Find(&rows).Error
	if err != nil {
		return AdminPage{}, wrap(err)
	}
	page := AdminPage{Admins: rows}
	if len(rows) > limit {
		page.Admins = rows[:limit]
		page.NextAfter = rows[limit-1].ID
	}
	return page, nil
}

// CountActiveAdmins counts an account's enabled admins with the admin role: the last one may
// not be disabled or demoted.
func (s *Store) CountActiveAdmins(ctx context.Context, accountID int64) (int64, error) {
	var n int64
	err := s.q(ctx).Model(&models.Admin{}).
		Where("account_id = ? AND role = ? AND status = ?", accountID, models.RoleAdmin, models.AdminActive).
		Count(&n).Error
	return n, wrap(err)
}

// updateAdmin saves the given columns of an admin of an account. Column names stay in this
// package: services call the methods below, named after what they do.
func (s *Store) updateAdmin(ctx context.Context, accountID, id int64, cols map[string]any) error {
	cols["updated_at"] = time.Now().UTC()
	return affected(s.q(ctx).Model(&models.Admin{}).Where("account_id = ? AND id = ?", accountID, id).Updates(cols))
}

// RecordAdminSignIn records when an admin of an account last signed in.
func (s *Store) RecordAdminSignIn(ctx context.Context, accountID, id int64, at time.Time) error {
	return s.updateAdmin(ctx, accountID, id, map[string]any{"last_sign_in_at": at})
}

// SetAdminPassword replaces the password hash of an admin of an account.
func (s *Store) SetAdminPassword(ctx context.Context, accountID, id int64, hash string) error {
	return s.updateAdmin(ctx, accountID, id, map[string]any{"password_hash": hash})
}

// SetAdminRole changes the role of an admin of an account.
func (s *Store) SetAdminRole(ctx context.Context, accountID, id int64, r models.Role) error {
	return s.updateAdmin(ctx, accountID, id, map[string]any{"role": r})
}

// SetAdminStatus enables or disables an admin of an account.
func (s *Store) SetAdminStatus(ctx context.Context, accountID, id int64, st models.AdminStatus) error {
	return s.updateAdmin(ctx, accountID, id, map[string]any{"status": st})
}

// SetAdminTOTP stores the sealed TOTP key of an admin of an account, with the time step of the
// code that confirmed it.
func (s *Store) SetAdminTOTP(ctx context.Context, accountID, id int64, sealed string, step int64) error {
	return s.updateAdmin(ctx, accountID, id, map[string]any{"totp_secret": sealed, "totp_last_step": step})
}

// ClearAdminTOTP turns an admin's two-step verification off.
func (s *Store) ClearAdminTOTP(ctx context.Context, accountID, id int64) error {
	return s.updateAdmin(ctx, accountID, id, map[string]any{"totp_secret": ""})
}

// LockAdmins serialises changes to an account's admins for the rest of the transaction, so that
// two admins demoting each other at once cannot leave the account with none.
func (s *Store) LockAdmins(ctx context.Context, accountID int64) error {
	if s.dialect == migrations.Postgres {
		return wrap(s.q(ctx).Exec("SELECT id FROM accounts WHERE id = ? FOR UPDATE", accountID).Error)
	}
	// SQLite transactions are IMMEDIATE: the write lock is already held.
	return nil
}

// RecordAdminTOTPStep accepts a TOTP time step for an admin only if it is later than the last
// one accepted: of two uses of one code (a replay, or two concurrent sign-ins) one gets
// models.ErrNotFound.
func (s *Store) RecordAdminTOTPStep(ctx context.Context, accountID, adminID, step int64) error {
	return affected(s.q(ctx).Model(&models.Admin{}).
		Where("account_id = ? AND id = ? AND totp_last_step < ?", accountID, adminID, step).Update("totp_last_step", step))
}
