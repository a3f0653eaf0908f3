package store

import (
	"context"

	"onramp/models"
)

// DeletePortalSessions ends every MyVPN portal session of an SDP user but keep (which may be "").
func (s *Store) DeletePortalSessions(ctx context.Context, userID int64, keep string) error {
	return wrap(s.q(ctx).Where("sdp_user_id = ? AND id <> ?", userID, keep).Delete(&models.PortalSession{}).Error)
}
