package store

import (
	"context"

	"onramp/models"
)

// PortalUser loads an SDP user by id alone. It is not scoped by account on purpose: callers
// reach it only through something that already names the user (an activation link's token, a
// portal session), so the token is the scope.
func (s *Store) PortalUser(ctx context.Context, id int64) (*models.SDPUser, error) {
	return first[models.SDPUser](s.q(ctx).Where("id = ?", id))
}

// RecordTOTPStep accepts a TOTP time step for a user only if it is later than the last one
// accepted: of two uses of one code (a replay, or two concurrent sign-ins) one gets
// models.ErrNotFound.
func (s *Store) RecordTOTPStep(ctx context.Context, userID, step int64) error {
	return affected(s.q(ctx).Model(&models.SDPUser{}).
		Where("id = ? AND totp_last_step < ?", userID, step).Update("totp_last_step", step))
}
