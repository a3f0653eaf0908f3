package store

import (
	"context"
	"time"

	"onramp/models"
)

// AccountCounts are the Overview's figures about an account. Each count stops at the cap it was
// read with (a count equal to the cap means "that many or more"); the flags say whether
// something was ever done, from the account's events.
type AccountCounts struct {
	Enabled, Disabled                int64
	New                              int64 `gorm:"column:new_users"`
	InvitationSent, Active           int64
	ActiveCodes, ActiveDevices       int64
	MailHeld, MailFailed             int64
	Admins                           int64
	MethodChosen, Reached, Connected bool // provisioning saved; a code generated or an invitation sent; a device registered
}

// AccountCounts reads the Overview's figures in one statement. Every count is a LIMIT subquery
// that an index serves alone (migrations 00002, 00005 and 00017), so the page reads at most
// capAt entries per figure however large the account: a plain grouped COUNT reads every user.
func (s *Store) AccountCounts(ctx context.Context, accountID int64, now time.Time, capAt int) (AccountCounts, error) {
	capped := func(from string) string {
		return "(SELECT COUNT(*) FROM (SELECT 1 FROM " + from + " LIMIT @cap) AS c)"
	}
	ever := func(typ models.EventType, sub string) string {
		return "EXISTS (SELECT 1 FROM events WHERE account_id = @account AND type = '" + string(typ) + "' AND sub_type = '" + sub + "')"
	}
	var out AccountCounts
	err := s.q(ctx).Raw(`SELECT
		`+capped("sdp_users WHERE account_id = @account AND status = 'enabled'")+` AS enabled,
		`+capped("sdp_users WHERE account_id = @account AND status = 'disabled'")+` AS disabled,
		`+capped("sdp_users WHERE account_id = @account AND activation = 'new'")+` AS new_users,
		`+capped("sdp_users WHERE account_id = @account AND activation = 'invitation_sent'")+` AS invitation_sent,
		`+capped("sdp_users WHERE account_id = @account AND activation = 'active'")+` AS active,
		`+capped("registration_codes WHERE account_id = @account AND used_at IS NULL AND revoked_at IS NULL AND expires_at > @now")+` AS active_codes,
		`+capped("devices WHERE account_id = @account AND revoked_at IS NULL")+` AS active_devices,
		`+capped("mail_messages WHERE account_id = @account AND status = 'held'")+` AS mail_held,
		`+capped("mail_messages WHERE account_id = @account AND status = 'failed'")+` AS mail_failed,
		(SELECT COUNT(*) FROM admins WHERE account_id = @account) AS admins,
		`+ever(models.EventAdmin, models.SubSettingsChanged)+` AS method_chosen,
		(`+ever(models.EventCode, models.SubCodeGenerated)+` OR `+ever(models.EventUser, models.SubUserInvited)+`) AS reached,
		`+ever(models.EventDevice, models.SubDeviceRegistered)+` AS connected`,
		map[string]any{"account": accountID, "now": now, "cap": capAt}).Scan(&out).Error
	return out, wrap(err)
}
