// Package provisioning owns the account-wide User Provisioning settings (docs/admin-guide.md): the method,
// the invitation options, the registration code expiry and the rules that guard them.
package provisioning

import (
	"context"
	"fmt"
	"time"

	"onramp/models"
	"onramp/models/store"
)

// Settings is the form of the User Provisioning page.
type Settings struct {
	Method          models.ProvisioningMethod
	InviteManual    bool
	InviteDirectory bool
	NotifyDisabled  bool
	ExpiryValue     int
	ExpiryUnit      string // "hours" or "days"
	SSOEnabled      bool
}

// FromAccount reads an account's settings.
func FromAccount(a *models.Account) Settings {
	v := a.CodeExpiryHours
	if a.CodeExpiryUnit == "days" {
		v = a.CodeExpiryHours / 24
	}
	return Settings{Method: a.ProvisioningMethod, InviteManual: a.InviteManual, InviteDirectory: a.InviteDirectory,
		NotifyDisabled: a.NotifyDisabled, ExpiryValue: v, ExpiryUnit: a.CodeExpiryUnit, SSOEnabled: a.SSOEnabled}
}

// ExpiryHours is the code expiry in hours.
func (s Settings) ExpiryHours() int {
	if s.ExpiryUnit == "days" {
		return s.ExpiryValue * 24
	}
	return s.ExpiryValue
}

// ExpiryLabel is the expiry as every page writes a duration (models.FormatDuration): "7 days",
// "36 hours", "1 day".
func (s Settings) ExpiryLabel() string {
	return hours(s.ExpiryHours())
}

// ExpiryRange is the allowed code expiry as the page and its errors write it: "1 hour to 7 days".
func ExpiryRange() string {
	return hours(models.MinCodeExpiryHours) + " to " + hours(models.MaxCodeExpiryHours)
}

func hours(n int) string { return models.FormatDuration(time.Duration(n) * time.Hour) }

// SSOWarning reports whether to warn that SSO users should not get invitation emails.
func (s Settings) SSOWarning() bool {
	return s.SSOEnabled && s.Method == models.MethodInvitationEmail && (s.InviteManual || s.InviteDirectory)
}

// MFAUsersError refuses the Registration Code method while users have MFA configured.
type MFAUsersError struct{ Count int64 }

func (e *MFAUsersError) Error() string {
	return fmt.Sprintf("%d users have MFA configured", e.Count)
}

// Validate checks the expiry limits (1 hour to 7 days) and the method.
func (s Settings) Validate() error {
	v := &models.ValidationError{}
	if !s.Method.Valid() {
		v.Add("method", "Choose Invitation Email or Registration Code.")
	}
	switch {
	case s.ExpiryUnit != "hours" && s.ExpiryUnit != "days":
		v.Add("code_expiry_value", "Choose hours or days.")
	case s.ExpiryHours() < models.MinCodeExpiryHours:
		v.Add("code_expiry_value", "Registration codes must be valid for at least "+hours(models.MinCodeExpiryHours)+".")
	case s.ExpiryHours() > models.MaxCodeExpiryHours:
		v.Add("code_expiry_value", "Registration codes can be valid for at most "+hours(models.MaxCodeExpiryHours)+".")
	}
	return v.OrNil()
}

// Service reads and saves the settings.
type Service struct{ store *store.Store }

// New builds the service.
func New(s *store.Store) *Service { return &Service{store: s} }

// Get returns the actor's account's settings.
func (s *Service) Get(ctx context.Context, actor *models.Admin) (Settings, *models.Account, error) {
	a, err := s.store.Account(ctx, actor.AccountID)
	if err != nil {
		return Settings{}, nil, err
	}
	return FromAccount(a), a, nil
}

// Save validates and stores new settings and records what changed from what to what. Switching to
// Registration Code is refused (*MFAUsersError) while any user has MFA configured: the
// account's row is held before the count, so that an MFA enrollment being stored (which holds
// it too) is either counted or refused. It reports whether anything changed.
func (s *Service) Save(ctx context.Context, actor *models.Admin, ip string, next Settings) (bool, error) {
	if err := next.Validate(); err != nil {
		return false, err
	}
	changed := false
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		a, err := tx.LockAccount(ctx, actor.AccountID)
		if err != nil {
			return err
		}
		prev := FromAccount(a)
		if next.Method == models.MethodRegistrationCode && prev.Method != models.MethodRegistrationCode {
			n, err := tx.CountMFAUsers(ctx, a.ID)
			if err != nil {
				return err
			}
			if n > 0 {
				return &MFAUsersError{Count: n}
			}
		}
		diff := changes(prev, next)
		if len(diff) == 0 {
			return nil
		}
		changed = true
		a.ProvisioningMethod, a.InviteManual, a.InviteDirectory, a.NotifyDisabled = next.Method, next.InviteManual, next.InviteDirectory, next.NotifyDisabled
		a.CodeExpiryHours, a.CodeExpiryUnit, a.SSOEnabled = next.ExpiryHours(), next.ExpiryUnit, next.SSOEnabled
		if err := tx.SaveProvisioning(ctx, a); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.NewEvent(&a.ID, models.EventAdmin, models.SubSettingsChanged,
			models.AdminActor(actor, ip), actor.Email, diff))
	})
	return changed, err
}

// changes lists each changed setting as "from → to".
func changes(a, b Settings) map[string]string {
	d := map[string]string{}
	add := func(name, from, to string) {
		if from != to {
			d[name] = from + " → " + to
		}
	}
	add("method", a.Method.Label(), b.Method.Label())
	add("invite_manual", onOff(a.InviteManual), onOff(b.InviteManual))
	add("invite_directory", onOff(a.InviteDirectory), onOff(b.InviteDirectory))
	add("notify_disabled", onOff(a.NotifyDisabled), onOff(b.NotifyDisabled))
	add("code_expiry", a.ExpiryLabel(), b.ExpiryLabel())
	// The unit only changes how the form shows the expiry ("168 hours" or "7 days", both
	// written "7 days" elsewhere), but it is a stored choice: a change of it is recorded too.
	add("code_expiry_unit", a.ExpiryUnit, b.ExpiryUnit)
	add("sso_enabled", onOff(a.SSOEnabled), onOff(b.SSOEnabled))
	return d
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
