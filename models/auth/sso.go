package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"onramp/models"
	"onramp/models/store"
)

// PasswordOffError is ErrPasswordOff for an admin of Account, whose sign-in page offers its
// single sign-on instead.
type PasswordOffError struct{ Account string }

func (e *PasswordOffError) Error() string { return ErrPasswordOff.Error() }

// Unwrap makes it ErrPasswordOff.
func (e *PasswordOffError) Unwrap() error { return ErrPasswordOff }

// passwordOff reports whether admin's account turned password sign-in off for them.
func (s *Service) passwordOff(ctx context.Context, admin *models.Admin) (bool, error) {
	c, err := s.store.ConsoleSSO(ctx, admin.AccountID)
	if err != nil {
		return false, err
	}
	return !c.PasswordAllowed(admin), nil
}

// ConsoleSSO is how the admins of an account sign in to the console.
func (s *Service) ConsoleSSO(ctx context.Context, accountID int64) (*models.ConsoleSSO, error) {
	return s.store.ConsoleSSO(ctx, accountID)
}

// ConsoleSSOAdmins are the settings of the console sign-in page with the account's admins (to
// choose the break-glass ones among).
func (s *Service) ConsoleSSOAdmins(ctx context.Context, accountID int64) (*models.ConsoleSSO, []models.Admin, error) {
	c, err := s.store.ConsoleSSO(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	admins, err := allAdmins(ctx, s.store, accountID)
	return c, admins, err
}

// ConsoleSSOOn reports whether the admins of the account named sign in to the console with
// its identity provider (false for an account that does not exist).
func (s *Service) ConsoleSSOOn(ctx context.Context, accountName string) (bool, error) {
	account, err := s.store.AccountByName(ctx, models.NormalizeEmail(accountName)) // same trim and lowercase
	if errors.Is(err, models.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	c, err := s.store.ConsoleSSO(ctx, account.ID)
	return err == nil && c.Enabled, err
}

// ConsoleSSOInput is the console sign-in form of the Single Sign-On tab.
type ConsoleSSOInput struct {
	Enabled, PasswordSignIn, CreateAdmins bool
	AdminGroups, HelpdeskGroups           string
	// BreakGlass are the ids of the admins who keep password sign-in.
	BreakGlass []int64
}

// maxGroupsLen bounds each list of group names.
const maxGroupsLen = 4000

// SaveConsoleSSO saves how the admins of cur's account sign in to the console, and which of
// them are break-glass admins. With password sign-in off, at least one break-glass admin must
// be able to sign in with a password (enabled, role admin, a password set): otherwise an
// outage of the provider would lock everyone out. Writes a Settings Changed event.
func (s *Service) SaveConsoleSSO(ctx context.Context, cur *Current, in ConsoleSSOInput, ip string) error {
	ve := &models.ValidationError{}
	for field, list := range map[string]string{"admin_groups": in.AdminGroups, "helpdesk_groups": in.HelpdeskGroups} {
		if len(list) > maxGroupsLen {
			ve.Add(field, fmt.Sprintf("At most %d characters of group names.", maxGroupsLen))
		}
	}
	if in.CreateAdmins && len(models.GroupList(in.AdminGroups))+len(models.GroupList(in.HelpdeskGroups)) == 0 {
		ve.Add("admin_groups", "Name at least one group (admin or helpdesk) to create admins on their first sign-in: the role comes from the groups claim.")
	}
	if err := ve.OrNil(); err != nil {
		return err
	}
	accountID := cur.Admin.AccountID
	return s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.LockAdmins(ctx, accountID); err != nil {
			return err
		}
		old, err := tx.ConsoleSSO(ctx, accountID)
		if err != nil {
			return err
		}
		admins, err := allAdmins(ctx, tx, accountID)
		if err != nil {
			return err
		}
		var breakGlass, usable []string
		ids := make([]int64, 0, len(in.BreakGlass))
		for i := range admins {
			a := &admins[i]
			if !slices.Contains(in.BreakGlass, a.ID) {
				continue
			}
			ids = append(ids, a.ID)
			breakGlass = append(breakGlass, a.Email)
			if a.Status == models.AdminActive && a.Role == models.RoleAdmin && a.HasPassword() {
				usable = append(usable, a.Email)
			}
		}
		if len(ids) != len(slices.Compact(slices.Sorted(slices.Values(in.BreakGlass)))) {
			return models.NewValidationError("break_glass", "Choose break-glass admins among this account's admins.")
		}
		if in.Enabled && !in.PasswordSignIn && len(usable) == 0 {
			return models.NewValidationError("break_glass", "Password sign-in can be turned off only when at least one break-glass admin keeps it: "+
				"choose an enabled admin (role Admin) who has a password, so that someone can still sign in when the identity provider is down.")
		}
		c := &models.ConsoleSSO{AccountID: accountID, Enabled: in.Enabled, PasswordSignIn: in.PasswordSignIn,
			CreateAdmins: in.CreateAdmins, AdminGroups: strings.Join(models.GroupList(in.AdminGroups), ", "),
			HelpdeskGroups: strings.Join(models.GroupList(in.HelpdeskGroups), ", ")}
		if err := tx.SaveConsoleSSO(ctx, c); err != nil {
			return err
		}
		if err := tx.SetBreakGlassAdmins(ctx, accountID, ids); err != nil {
			return err
		}
		details := consoleSSODetails(c)
		details["break_glass"] = strings.Join(breakGlass, ", ")
		if old.Enabled != c.Enabled || old.PasswordSignIn != c.PasswordSignIn {
			details["was"] = fmt.Sprintf("console SSO %s, password sign-in %s", onOff(old.Enabled), onOff(old.PasswordSignIn))
		}
		return tx.CreateEvent(ctx, models.NewEvent(&accountID, models.EventAdmin, models.SubSettingsChanged,
			models.AdminActor(cur.Admin, ip), cur.Admin.Email, details))
	})
}

// consoleSSODetails are the settings as an event tells them.
func consoleSSODetails(c *models.ConsoleSSO) map[string]string {
	return map[string]string{
		"setting":          "console sign-in",
		"console_sso":      onOff(c.Enabled),
		"password_sign_in": onOff(c.PasswordSignIn),
		"create_admins":    onOff(c.CreateAdmins),
		"admin_groups":     c.AdminGroups,
		"helpdesk_groups":  c.HelpdeskGroups,
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// adminsPage is how many admins allAdmins reads per query.
const adminsPage = 500

// allAdmins lists every admin of an account.
func allAdmins(ctx context.Context, tx *store.Store, accountID int64) ([]models.Admin, error) {
	var all []models.Admin
	for after := int64(0); ; {
		page, err := tx.ListAdmins(ctx, accountID, after, adminsPage)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Admins...)
		if page.NextAfter == 0 {
			return all, nil
		}
		after = page.NextAfter
	}
}

// SSOIdentity is who the account's identity provider says signed in (models/sso verified the
// ID token, and the email unless the provider is known not to send email_verified).
type SSOIdentity struct {
	Email, GivenName, FamilyName string
	Groups                       []string
}

// SSORefusedError is a refused single sign-on to the console; Message says why, for the person.
type SSORefusedError struct{ Reason, Message string }

func (e *SSORefusedError) Error() string { return "console single sign-on refused: " + e.Reason }

// Unwrap makes a refusal a models.ErrForbidden for the one error handler.
func (e *SSORefusedError) Unwrap() error { return models.ErrForbidden }

// SignInSSO signs in to account's console the admin the identity provider vouched for, matched
// by email within the account. When the account creates admins on first sign-in, someone
// unknown in a group that maps to a role becomes an admin with that role (no password: they
// sign in with the provider). Onramp's two-step verification is not asked for: the provider
// authenticated the person, its own MFA included (docs/sso.md#console-admins). Console single
// sign-on off, an unknown admin, no mapped group or a disabled admin are *SSORefusedError, with an
// Admin / Sign-in Failed event; success is a session as for a password, with a Signed In event
// via sso.
func (s *Service) SignInSSO(ctx context.Context, account *models.Account, id SSOIdentity, ip, userAgent string) (*Current, string, error) {
	email := models.NormalizeEmail(id.Email)
	refuse := func(reason, msg string) (*Current, string, error) {
		e := models.NewEvent(&account.ID, models.EventAdmin, models.SubSignInFailed, models.Actor{Type: models.ActorSystem, IP: ip}, email,
			map[string]string{"reason": reason, "via": models.ViaSSO})
		if err := s.store.CreateEvent(ctx, e); err != nil {
			return nil, "", err
		}
		return nil, "", &SSORefusedError{Reason: reason, Message: msg}
	}
	c, err := s.store.ConsoleSSO(ctx, account.ID)
	if err != nil {
		return nil, "", err
	}
	if !c.Enabled {
		return refuse("console single sign-on off", "Single sign-on to the console is not turned on for the account "+account.Name+". Sign in with your password.")
	}
	admin, err := s.store.AdminByEmail(ctx, account.ID, email)
	switch {
	case errors.Is(err, models.ErrNotFound) && !c.CreateAdmins:
		return refuse("unknown admin", "There is no administrator "+email+" in the account "+account.Name+". Ask one of its admins to add you.")
	case errors.Is(err, models.ErrNotFound):
		role := c.RoleFor(id.Groups)
		if role == "" {
			return refuse("no admin group", "You are not in a group that gives access to the console of "+account.Name+". Ask one of its admins.")
		}
		if admin, err = s.createSSOAdmin(ctx, account, email, ssoName(id), role, ip); err != nil {
			return nil, "", err
		}
	case err != nil:
		return nil, "", err
	case admin.Status != models.AdminActive:
		return refuse("admin disabled", "Your administrator account is disabled. Ask another admin of "+account.Name+".")
	}
	return s.startSession(ctx, admin, account, ip, userAgent, map[string]string{"via": models.ViaSSO})
}

// createSSOAdmin adds the admin of a first sign-in with the provider, with the role their groups
// map to and no password.
func (s *Service) createSSOAdmin(ctx context.Context, account *models.Account, email, name string, role models.Role, ip string) (*models.Admin, error) {
	admin := &models.Admin{AccountID: account.ID, Email: email, Name: name, Role: role, Status: models.AdminActive}
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreateAdmin(ctx, admin); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.NewEvent(&account.ID, models.EventAdmin, models.SubAdminCreated,
			models.Actor{Type: models.ActorSystem, Label: "single sign-on", IP: ip}, email,
			map[string]string{"role": string(role), "via": models.ViaSSO}))
	})
	return admin, err
}

// ssoName is the name of a new admin: given and family names, or the email without them.
func ssoName(id SSOIdentity) string {
	name := strings.TrimSpace(id.GivenName + " " + id.FamilyName)
	if name == "" || models.ValidateName(name) != "" {
		return id.Email
	}
	return name
}
