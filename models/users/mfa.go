package users

import (
	"context"

	"onramp/models"
	"onramp/models/store"
)

// removeMFA turns MFA off for users who have it (the Remove MFA action): the TOTP key and its
// last used step go, and the users' portal sessions end. MFA is mostly removed because the
// phone that held the authenticator was lost or stolen, and a session open on that phone must
// not outlive the factor it was opened with. VPN devices keep their credentials: each is
// signed out on its own (or all with Reset password) when that is wanted.
func (s *Service) removeMFA(ctx context.Context, tx *store.Store, account *models.Account, us []models.SDPUser, who models.Actor) error {
	if len(us) == 0 {
		return nil
	}
	ids := idsOf(us)
	if err := tx.ClearUsersTOTP(ctx, account.ID, ids); err != nil {
		return err
	}
	if err := tx.DeleteOwnersSessions(ctx, models.PortalSession, ids); err != nil {
		return err
	}
	return tx.CreateEvents(ctx, events(us, models.SubMFARemoved, who, map[string]string{"method": "totp", "portal_sessions": "signed out"}))
}
