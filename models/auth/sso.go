package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"onramp/models"
	"onramp/models/store"
)

// passwordOff reports whether admin's account turned password sign-in off for them.
func (s *Service) passwordOff(ctx context.Context, admin *models.Admin) (bool, error) {
	c, err := s.store.ConsoleSSO(ctx, admin.AccountID)
	if err != nil {
		return false, err
	}
	return !c.PasswordAllowed(admin), nil
}

// ConsoleSSO is how the admins of cur's account sign in to the console.
func (s *Service) ConsoleSSO(ctx context.Context, accountID int64) (*models.ConsoleSSO, error) {
	return s.store.ConsoleSSO(ctx, accountID)
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
	if in.CreateAdmins && len(models.GroupLines(in.AdminGroups))+len(models.GroupLines(in.HelpdeskGroups)) == 0 {
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
			CreateAdmins: in.CreateAdmins, AdminGroups: strings.Join(models.GroupLines(in.AdminGroups), "\n"),
			HelpdeskGroups: strings.Join(models.GroupLines(in.HelpdeskGroups), "\n")}
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
		"admin_groups":     strings.ReplaceAll(c.AdminGroups, "\n", ", "),
		"helpdesk_groups":  strings.ReplaceAll(c.HelpdeskGroups, "\n", ", "),
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
