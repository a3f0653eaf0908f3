package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"onramp/handlers/forms"
	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/provisioning"
	"onramp/models/users"
	"onramp/views"
	provpages "onramp/views/pages/provisioning"
)

// ProvisioningPage serves GET /access/directory-services/provisioning.
func (h *Handler) ProvisioningPage(c echo.Context) error {
	s, _, err := h.Provisioning.Get(c.Request().Context(), current(c).Admin)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, provpages.Page(h.page(c, "Directory Services", "provisioning"), settingsForm(s)))
}

func settingsForm(s provisioning.Settings) provpages.Form {
	return provpages.Form{Method: string(s.Method), InviteManual: s.InviteManual, InviteDirectory: s.InviteDirectory,
		NotifyDisabled: s.NotifyDisabled, ExpiryValue: strconv.Itoa(s.ExpiryValue), ExpiryUnit: s.ExpiryUnit,
		SSOEnabled: s.SSOEnabled, SSOWarning: s.SSOWarning(), ExpiryRange: provisioning.ExpiryRange()}
}

// ProvisioningSave serves POST /access/directory-services/provisioning.
func (h *Handler) ProvisioningSave(c echo.Context) error {
	var f forms.Provisioning
	if err := c.Bind(&f); err != nil {
		return err
	}
	// Single sign-on is switched on its own tab (sso.go): this form keeps it as saved.
	saved, _, err := h.Provisioning.Get(c.Request().Context(), current(c).Admin)
	if err != nil {
		return err
	}
	s := provisioning.Settings{Method: models.ProvisioningMethod(f.Method), InviteManual: f.InviteManual == "on",
		InviteDirectory: f.InviteDirectory == "on", NotifyDisabled: f.NotifyDisabled == "on", ExpiryUnit: f.ExpiryUnit,
		SSOEnabled: saved.SSOEnabled}
	value, convErr := strconv.Atoi(strings.TrimSpace(f.ExpiryValue))
	if convErr != nil {
		err = models.NewValidationError("code_expiry_value", "Enter a whole number of hours or days ("+provisioning.ExpiryRange()+").")
	} else {
		s.ExpiryValue = value
		var changed bool
		changed, err = h.Provisioning.Save(c.Request().Context(), current(c).Admin, c.RealIP(), s)
		if err == nil {
			msg := "No change to save."
			if changed {
				msg = "User Provisioning settings saved."
			}
			return h.flashRedirect(c, views.FlashSuccess, msg, c.Echo().Reverse("provisioning"))
		}
	}
	form := settingsForm(s)
	form.ExpiryValue = f.ExpiryValue
	var ve *models.ValidationError
	var mfa *provisioning.MFAUsersError
	switch {
	case errors.As(err, &ve):
		form.Errors = ve.Fields
	case errors.As(err, &mfa):
		form.MFAUsers = mfa.Count
		form.MFAUsersURL = c.Echo().Reverse("users.list") + users.Filter{MFA: "yes"}.Query("")
		form.Errors = map[string]string{"method": fmt.Sprintf(
			"Registration Code does not support MFA, and %s MFA configured. Remove MFA from them first: "+
				"select them in Users and choose Remove MFA in the Actions menu.",
			models.Plural(mfa.Count, "user has", "users have"))}
	default:
		return err
	}
	return web.Render(c, http.StatusUnprocessableEntity, provpages.Page(h.page(c, "Directory Services", "provisioning"), form))
}
