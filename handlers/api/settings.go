package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"onramp/models"
	"onramp/models/provisioning"
)

// Provisioning is the account's User Provisioning settings (SPEC §3).
type Provisioning struct {
	Method          string `json:"method"`
	InviteManual    bool   `json:"invite_manual"`
	InviteDirectory bool   `json:"invite_directory"`
	NotifyDisabled  bool   `json:"notify_disabled"`
	CodeExpiryValue int    `json:"code_expiry_value"`
	CodeExpiryUnit  string `json:"code_expiry_unit"`
	SSOEnabled      bool   `json:"sso_enabled"`
}

func provisioningOf(s provisioning.Settings) Provisioning {
	return Provisioning{Method: string(s.Method), InviteManual: s.InviteManual, InviteDirectory: s.InviteDirectory, NotifyDisabled: s.NotifyDisabled,
		CodeExpiryValue: s.ExpiryValue, CodeExpiryUnit: s.ExpiryUnit, SSOEnabled: s.SSOEnabled}
}

// ProvisioningPatch changes the fields sent.
type ProvisioningPatch struct {
	Method          *string `json:"method"`
	InviteManual    *bool   `json:"invite_manual"`
	InviteDirectory *bool   `json:"invite_directory"`
	NotifyDisabled  *bool   `json:"notify_disabled"`
	CodeExpiryValue *int    `json:"code_expiry_value"`
	CodeExpiryUnit  *string `json:"code_expiry_unit"`
	SSOEnabled      *bool   `json:"sso_enabled"`
}

// GetProvisioning serves GET /api/v1/settings/provisioning.
func (h *Handler) GetProvisioning(c echo.Context) error {
	s, _, err := h.Provisioning.Get(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, provisioningOf(s))
}

// UpdateProvisioning serves PATCH /api/v1/settings/provisioning: the console's save, with
// its rules (expiry 1 hour to 7 days; Registration Code refused while users have MFA) and its
// Settings Changed event.
func (h *Handler) UpdateProvisioning(c echo.Context) error {
	var in ProvisioningPatch
	if err := decode(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	s, _, err := h.Provisioning.Get(ctx, actor(c))
	if err != nil {
		return err
	}
	if in.Method != nil {
		s.Method = models.ProvisioningMethod(*in.Method)
	}
	for _, f := range []struct {
		v   *bool
		dst *bool
	}{{in.InviteManual, &s.InviteManual}, {in.InviteDirectory, &s.InviteDirectory}, {in.NotifyDisabled, &s.NotifyDisabled}, {in.SSOEnabled, &s.SSOEnabled}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	if in.CodeExpiryValue != nil {
		s.ExpiryValue = *in.CodeExpiryValue
	}
	if in.CodeExpiryUnit != nil {
		s.ExpiryUnit = *in.CodeExpiryUnit
	}
	_, err = h.Provisioning.Save(ctx, actor(c), c.RealIP(), s)
	var mfa *provisioning.MFAUsersError
	if errors.As(err, &mfa) {
		return problem(http.StatusConflict, "mfa-users", fmt.Sprintf("%s MFA configured: the Registration Code method does not support MFA. "+
			"Find them with GET /api/v1/users?mfa=yes.", models.Plural(int(mfa.Count), "user has", "users have")))
	}
	if err != nil {
		return err
	}
	return h.GetProvisioning(c)
}
