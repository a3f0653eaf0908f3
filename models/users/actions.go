package users

import (
	"context"
	"fmt"

	"onramp/models"
	"onramp/models/codes"
	"onramp/models/devices"
	"onramp/models/mail"
	"onramp/models/provisioning"
	"onramp/models/store"
)

// Action is a bulk action of the Users page.
type Action string

const (
	ActionGenerateCode     Action = "generate_code"
	ActionEmailCode        Action = "email_code"
	ActionResendInvitation Action = "resend_invitation"
	ActionResetPassword    Action = "reset_password"
	ActionDisable          Action = "disable"
	ActionEnable           Action = "enable"
	ActionDelete           Action = "delete"
	ActionRemoveMFA        Action = "remove_mfa"
)

// Actions lists the actions in menu order.
var Actions = []Action{ActionGenerateCode, ActionEmailCode, ActionResendInvitation, ActionResetPassword, ActionRemoveMFA, ActionDisable, ActionEnable, ActionDelete}

// Valid reports whether a is a known action.
func (a Action) Valid() bool {
	for _, x := range Actions {
		if a == x {
			return true
		}
	}
	return false
}

// Label is the action's menu entry.
func (a Action) Label() string {
	switch a {
	case ActionGenerateCode:
		return "Generate registration code"
	case ActionEmailCode:
		return "Email registration code"
	case ActionResendInvitation:
		return "Resend invitation"
	case ActionResetPassword:
		return "Reset password"
	case ActionDisable:
		return "Disable"
	case ActionEnable:
		return "Enable"
	case ActionDelete:
		return "Delete"
	case ActionRemoveMFA:
		return "Remove MFA"
	}
	return string(a)
}

// Allowed reports whether a role may run the action: helpdesk staff generate and email codes,
// resend, reset and remove MFA (a user who lost their phone calls the helpdesk), only admins
// disable, enable and delete.
func (a Action) Allowed(r models.Role) bool {
	if r == models.RoleAdmin {
		return true
	}
	return a == ActionGenerateCode || a == ActionEmailCode || a == ActionResendInvitation || a == ActionResetPassword || a == ActionRemoveMFA
}

// SignsOutDevices reports whether the action ends the users' VPN devices' access: their
// confirmation says how many devices that is.
func (a Action) SignsOutDevices() bool {
	return a == ActionResetPassword || a == ActionDisable || a == ActionDelete
}

// Mails reports whether the action queues emails (invitations, codes) in this account.
func (a Action) Mails(account *models.Account) bool {
	return a == ActionResendInvitation || a == ActionEmailCode || a == ActionResetPassword && account.ProvisioningMethod == models.MethodInvitationEmail
}

// HandsOutCodes reports whether the action generates codes that its admin is handed (shown
// once, downloaded once).
func (a Action) HandsOutCodes() bool { return a == ActionGenerateCode || a == ActionEmailCode }

// Destructive actions get a red confirmation (removing MFA weakens how the users sign in).
func (a Action) Destructive() bool {
	return a == ActionDisable || a == ActionDelete || a == ActionResetPassword || a == ActionRemoveMFA
}

// Warning says what the action will do to n users, in the singular when n is 1.
func (a Action) Warning(n int64, account *models.Account) string {
	one := n == 1
	these := fmt.Sprintf("These %d users", n)
	if one {
		these = "This user"
	}
	expiry := provisioning.FromAccount(account).ExpiryLabel()
	switch a {
	case ActionGenerateCode:
		if one {
			return fmt.Sprintf("A new registration code will be generated for this user, in addition to the codes they have "+
				"(one code per device). Codes expire after %s; a disabled user, or a user with MFA, gets none.", expiry)
		}
		return fmt.Sprintf("A new registration code will be generated for each enabled user among these %d users, in addition to the codes "+
			"they have (one code per device). Codes expire after %s; disabled users and users with MFA are skipped.", n, expiry)
	case ActionEmailCode:
		if one {
			return fmt.Sprintf("A new registration code will be generated for this user and emailed to them with the enrollment link. "+
				"Codes expire after %s; a disabled user, or a user with MFA, gets none.", expiry)
		}
		return fmt.Sprintf("Each enabled user among these %d users gets a new registration code, emailed to them with the enrollment link. "+
			"Codes expire after %s; disabled users and users with MFA are skipped.", n, expiry)
	case ActionResendInvitation:
		if one {
			return "A new invitation email will be sent to this user if they are enabled and not yet active. Links sent before stop working."
		}
		return fmt.Sprintf("A new invitation email will be sent to each of these %d users that is enabled and not yet active. Links sent before stop working.", n)
	case ActionResetPassword:
		passwords, invited := fmt.Sprintf("The passwords of these %d users", n), " Enabled users get a fresh invitation email."
		if one {
			passwords, invited = "This user's password", " If enabled, they get a fresh invitation email."
		}
		s := passwords + " will be cleared, their portal sessions signed out and their registration codes revoked; they are back to \"new\" and must activate again. No new code is generated."
		if account.ProvisioningMethod == models.MethodInvitationEmail {
			s += invited
		}
		return s
	case ActionDisable:
		s := these + " will lose access at once: their portal sessions are signed out and they cannot sign in until enabled."
		if account.NotifiesDisabledUsers() && one {
			s += " They get a notification email."
		} else if account.NotifiesDisabledUsers() {
			s += " Each gets a notification email."
		}
		return s
	case ActionEnable:
		return these + " will be able to sign in again."
	case ActionDelete:
		return these + " will be deleted with their invitations, codes and sessions. This cannot be undone; their events are kept."
	case ActionRemoveMFA:
		whom := fmt.Sprintf("each of these %d users that has it", n)
		if one {
			whom = "this user"
		}
		return "Two-step verification (MFA) will be turned off for " + whom + ": the authenticator key is deleted and " +
			"MyVPN sessions are signed out; they sign in with their password alone until they set it up again. Users without MFA are skipped."
	}
	return ""
}

// DevicesWarning says how many VPN devices an action that signs them out (SignsOutDevices) ends.
func DevicesWarning(p Preview) string {
	switch {
	case p.Devices > 0:
		return models.Plural(p.Devices, "VPN device", "VPN devices") + " will be signed out."
	case p.Count == 1:
		return "No VPN device will be signed out: this user has none."
	}
	return "No VPN device will be signed out: these users have none."
}

// Selection is what a bulk action applies to: listed ids, or every user matching a filter.
type Selection struct {
	IDs    []int64
	All    bool
	Filter Filter
}

// PreviewNames is how many users a confirmation names; it counts the others.
const PreviewNames = 5

// Preview is what a confirmation says of a selection, whatever the action: how many of the
// account's users it holds, the first PreviewNames of them ("Name (email)", in the list's order
// for a filter, else by id) and how many VPN devices they have.
type Preview struct {
	Count   int64
	Names   []string
	Devices int64
}

// More is how many users the selection holds beyond those named.
func (p Preview) More() int64 { return p.Count - int64(len(p.Names)) }

// Preview reads a selection for its confirmation.
func (s *Service) Preview(ctx context.Context, actor *models.Admin, sel Selection) (Preview, error) {
	var p Preview
	name := func(us []models.SDPUser) {
		for i := 0; i < len(us) && len(p.Names) < PreviewNames; i++ {
			p.Names = append(p.Names, us[i].FullName()+" ("+us[i].Email+")")
		}
	}
	if sel.All {
		var err error
		if p.Count, p.Devices, err = s.store.SummarizeUsers(ctx, actor.AccountID, sel.Filter.storeFilter()); err != nil {
			return Preview{}, err
		}
		first, err := s.store.ListUsers(ctx, actor.AccountID, sel.Filter.storeFilter(), store.Keyset{}, PreviewNames, 0)
		name(first.Users)
		return p, err
	}
	for start := 0; start < len(sel.IDs); start += batchSize {
		us, err := s.store.UsersByIDs(ctx, actor.AccountID, sel.IDs[start:min(start+batchSize, len(sel.IDs))])
		if err != nil {
			return Preview{}, err
		}
		p.Count += int64(len(us))
		for i := range us {
			p.Devices += int64(us[i].Devices)
		}
		name(us)
	}
	return p, nil
}

// Account returns the actor's account (the confirmation needs its settings).
func (s *Service) Account(ctx context.Context, actor *models.Admin) (*models.Account, error) {
	return s.store.Account(ctx, actor.AccountID)
}

// Result counts what a bulk action did.
type Result struct {
	Affected   int // users the action changed
	Skipped    int // selected users it did not apply to (already in that state, not eligible)
	SkippedMFA int // of Skipped, users with MFA that an action generating codes skipped
	// SkippedDirectory: of Skipped, directory users that Disable or Enable left alone (their
	// status belongs to the directory).
	SkippedDirectory int
	// HandoutID is the handout of the codes an action generated (0 for the others): its result
	// page shows them once.
	HandoutID int64
}

// Bulk runs an action over a selection in one transaction, a batch of users per statement: it
// all happens or none of it does.
func (s *Service) Bulk(ctx context.Context, actor *models.Admin, ip string, a Action, sel Selection) (Result, error) {
	if !a.Valid() {
		return Result{}, models.NewValidationError("action", "Choose an action.")
	}
	if !a.Allowed(actor.Role) {
		return Result{}, models.ErrForbidden
	}
	who := models.AdminActor(actor, ip)
	var res Result
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		account, err := tx.Account(ctx, actor.AccountID)
		if err != nil {
			return err
		}
		var handout *int64
		if a.HandsOutCodes() {
			if res.HandoutID, err = s.codes.NewHandout(ctx, tx, actor, nil, a == ActionEmailCode); err != nil {
				return err
			}
			handout = &res.HandoutID
		}
		return eachBatch(ctx, tx, actor.AccountID, sel, func(us []models.SDPUser) error {
			r, err := s.apply(ctx, tx, account, a, us, who, handout)
			res.Affected += r.Affected
			res.Skipped += len(us) - r.Affected
			res.SkippedMFA += r.SkippedMFA
			res.SkippedDirectory += r.SkippedDirectory
			return err
		})
	})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// eachBatch loads the selection's users a batch at a time and hands them to fn.
func eachBatch(ctx context.Context, tx *store.Store, accountID int64, sel Selection, fn func([]models.SDPUser) error) error {
	if !sel.All {
		for start := 0; start < len(sel.IDs); start += batchSize {
			us, err := tx.UsersByIDs(ctx, accountID, sel.IDs[start:min(start+batchSize, len(sel.IDs))])
			if err != nil {
				return err
			}
			if err := fn(us); err != nil {
				return err
			}
		}
		return nil
	}
	var after int64
	for {
		ids, err := tx.UserIDsMatching(ctx, accountID, sel.Filter.storeFilter(), after, batchSize)
		if err != nil || len(ids) == 0 {
			return err
		}
		after = ids[len(ids)-1]
		us, err := tx.UsersByIDs(ctx, accountID, ids)
		if err != nil {
			return err
		}
		if err := fn(us); err != nil {
			return err
		}
	}
}

// apply runs one action on one batch and says how many users it changed (and, for the actions
// that generate codes, how many it skipped for MFA); their codes go to the handout.
func (s *Service) apply(ctx context.Context, tx *store.Store, account *models.Account, a Action, us []models.SDPUser, who models.Actor,
	handout *int64) (Result, error) {
	var r codes.Result
	var err error
	switch a {
	case ActionGenerateCode:
		r, err = s.codes.IssueForUsers(ctx, tx, account, us, codes.Issue{Who: who, HandoutID: handout})
	case ActionEmailCode:
		r, err = s.codes.EmailForUsers(ctx, tx, account, us, codes.Issue{Who: who, HandoutID: handout})
	case ActionDisable, ActionEnable:
		managed := filter(us, func(u *models.SDPUser) bool { return u.ManagedBy() != "" })
		n, err := s.applyToUsers(ctx, tx, account, a, filter(us, func(u *models.SDPUser) bool { return u.ManagedBy() == "" }), who)
		return Result{Affected: n, SkippedDirectory: len(managed)}, err
	default:
		n, err := s.applyToUsers(ctx, tx, account, a, us, who)
		return Result{Affected: n}, err
	}
	return Result{Affected: r.Generated, SkippedMFA: r.SkippedMFA}, err
}

// applyToUsers runs one of the actions that change users themselves on one batch and returns
// how many users it changed.
func (s *Service) applyToUsers(ctx context.Context, tx *store.Store, account *models.Account, a Action, us []models.SDPUser, who models.Actor) (int, error) {
	switch a {
	case ActionResendInvitation:
		eligible := filter(us, func(u *models.SDPUser) bool {
			return u.Status == models.UserEnabled && u.Activation != models.ActivationActive
		})
		return len(eligible), s.invite(ctx, tx, account, eligible, who, "resent")
	case ActionResetPassword:
		return len(us), s.resetPasswords(ctx, tx, account, us, who)
	case ActionDisable:
		eligible := filter(us, func(u *models.SDPUser) bool { return u.Status == models.UserEnabled })
		return len(eligible), s.disable(ctx, tx, account, eligible, who)
	case ActionEnable:
		eligible := filter(us, func(u *models.SDPUser) bool { return u.Status == models.UserDisabled })
		return len(eligible), s.setStatus(ctx, tx, account, eligible, models.UserEnabled, models.SubUserEnabled, who)
	case ActionDelete:
		return len(us), s.delete(ctx, tx, account, us, who)
	case ActionRemoveMFA:
		eligible := filter(us, func(u *models.SDPUser) bool { return u.MFAConfigured })
		return len(eligible), s.removeMFA(ctx, tx, account, eligible, who)
	}
	return 0, nil
}

func filter(us []models.SDPUser, keep func(*models.SDPUser) bool) []models.SDPUser {
	out := us[:0:0]
	for i := range us {
		if keep(&us[i]) {
			out = append(out, us[i])
		}
	}
	return out
}

func idsOf(us []models.SDPUser) []int64 {
	ids := make([]int64, len(us))
	for i := range us {
		ids[i] = us[i].ID
	}
	return ids
}

func events(us []models.SDPUser, sub string, who models.Actor, details map[string]string) []*models.Event {
	out := make([]*models.Event, len(us))
	for i := range us {
		out[i] = models.UserEvent(&us[i], models.EventUser, sub, who, details)
	}
	return out
}

// resetPasswords revokes access: passwords cleared, portal sessions ended, older activation
// links dead, every registration code revoked (a Revoked event each; no new code is generated),
// users back to "new"; under the Invitation Email method enabled users are invited again.
func (s *Service) resetPasswords(ctx context.Context, tx *store.Store, account *models.Account, us []models.SDPUser, who models.Actor) error {
	if len(us) == 0 {
		return nil
	}
	ids := idsOf(us)
	if err := tx.ClearUsersPasswords(ctx, account.ID, ids); err != nil {
		return err
	}
	if err := tx.DeleteOwnersSessions(ctx, models.PortalSession, ids); err != nil {
		return err
	}
	if err := tx.RetireUserTokens(ctx, models.TokenUserActivation, ids, s.now()); err != nil {
		return err
	}
	if err := codes.RevokeForUsersAt(ctx, tx, account.ID, ids, who, s.now()); err != nil {
		return err
	}
	if err := s.devices.RevokeForUsers(ctx, tx, account.ID, ids, devices.ReasonPasswordReset, who); err != nil {
		return err
	}
	if err := tx.CreateEvents(ctx, events(us, models.SubUserPasswordReset, who, nil)); err != nil {
		return err
	}
	if account.ProvisioningMethod != models.MethodInvitationEmail {
		return nil
	}
	enabled := filter(us, func(u *models.SDPUser) bool { return u.Status == models.UserEnabled })
	return s.invite(ctx, tx, account, enabled, who, "password reset")
}

// disable ends the users' access at once and, with invitation option 3 on, tells them.
func (s *Service) disable(ctx context.Context, tx *store.Store, account *models.Account, us []models.SDPUser, who models.Actor) error {
	if err := s.setStatus(ctx, tx, account, us, models.UserDisabled, models.SubUserDisabled, who); err != nil || len(us) == 0 {
		return err
	}
	ids := idsOf(us)
	if err := tx.DeleteOwnersSessions(ctx, models.PortalSession, ids); err != nil {
		return err
	}
	if err := tx.RetireUserTokens(ctx, models.TokenUserActivation, ids, s.now()); err != nil {
		return err
	}
	if err := s.devices.RevokeForUsers(ctx, tx, account.ID, ids, devices.ReasonUserDisabled, who); err != nil {
		return err
	}
	if !account.NotifiesDisabledUsers() {
		return nil
	}
	notices := make([]mail.DisabledNotice, len(us))
	for i := range us {
		notices[i] = mail.DisabledNotice{AccountID: account.ID, SDPUserID: us[i].ID, AccountName: account.Name, To: us[i].Email, FirstName: us[i].FirstName}
	}
	return s.outbox.QueueDisabledNotices(ctx, tx, notices)
}

func (s *Service) setStatus(ctx context.Context, tx *store.Store, account *models.Account, us []models.SDPUser, st models.UserStatus, sub string, who models.Actor) error {
	if len(us) == 0 {
		return nil
	}
	if err := tx.SetUsersStatus(ctx, account.ID, idsOf(us), st); err != nil {
		return err
	}
	return tx.CreateEvents(ctx, events(us, sub, who, nil))
}

func (s *Service) delete(ctx context.Context, tx *store.Store, account *models.Account, us []models.SDPUser, who models.Actor) error {
	if len(us) == 0 {
		return nil
	}
	evs := make([]*models.Event, len(us))
	for i := range us {
		evs[i] = models.UserEvent(&us[i], models.EventUser, models.SubUserDeleted, who, map[string]string{"name": us[i].FullName()})
	}
	if err := tx.CreateEvents(ctx, evs); err != nil {
		return err
	}
	return tx.DeleteUsers(ctx, account.ID, idsOf(us))
}
