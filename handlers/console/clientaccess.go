package console

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/codes"
	"onramp/models/provisioning"
	"onramp/models/users"
	"onramp/views"
	"onramp/views/components"
	capages "onramp/views/pages/clientaccess"
)

// ClientAccessPage is Access > Client Access with its User Provisioning section.
func (h *Handler) ClientAccessPage(c echo.Context) error {
	ov, err := h.Codes.Overview(c.Request().Context(), current(c).Admin)
	if err != nil {
		return err
	}
	v := capages.Section{Method: ov.Account.ProvisioningMethod.Label(), MethodIsCode: ov.Account.ProvisioningMethod == models.MethodRegistrationCode,
		Expiry: provisioning.FromAccount(ov.Account).ExpiryLabel(), NewUsers: ov.NewUsers, SkippedMFA: ov.SkippedMFA,
		MFAURL: c.Echo().Reverse("users.list") + users.Filter{MFA: "yes"}.Query("")}
	if ov.Latest != nil {
		r := codeRunView(c, ov.Latest)
		v.Run = &r
	}
	return web.Render(c, http.StatusOK, capages.Page(h.page(c, "Client Access", "clientaccess"), v))
}

// codeRunView is a generation run as the Client Access page shows it.
func codeRunView(c echo.Context, r *models.Run) components.Run {
	return runView(c, r, "code-run", "Latest run", fmt.Sprintf("%d of %s generated (%d%%).", r.Done, models.Plural(r.Total, "code", "codes"), r.Percent()),
		c.Echo().Reverse("clientaccess.run", r.ID), c.Echo().Reverse("clientaccess"))
}

// ClientAccessGenerate is "Generate Registration Code For New Users", confirm-then-do: without
// confirm=1 it answers with the warning and its exact count (a dialog for htmx, a page
// otherwise); with it, it starts the run and goes back to the page, which shows its progress.
func (h *Handler) ClientAccessGenerate(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	back := c.Echo().Reverse("clientaccess")
	if !web.Confirmed(c) {
		ov, err := h.Codes.Overview(ctx, cur.Admin)
		if err != nil {
			return err
		}
		if ov.NewUsers == 0 {
			return h.flashRedirect(c, views.FlashInfo, "Every enabled user has or had a registration code: there is nothing to generate.", back)
		}
		p := components.ConfirmProps{
			Title: fmt.Sprintf("Generate registration codes for %s?", models.Plural(ov.NewUsers, "new user", "new users")),
			Message: codes.NewUsersWarning(ov.NewUsers) + " Users that have or had a code are untouched; disabled users and users with MFA are skipped. Codes expire after " +
				provisioning.FromAccount(ov.Account).ExpiryLabel() + ".",
			Action:       c.Echo().Reverse("clientaccess.generate"),
			ConfirmLabel: "Generate codes",
			CancelURL:    back,
		}
		return h.askConfirm(c, p, "clientaccess", "Client Access")
	}
	run, err := h.Codes.StartRun(ctx, cur.Admin, c.RealIP())
	kind, msg := views.FlashSuccess, ""
	switch {
	case errors.Is(err, codes.ErrNothingToGenerate):
		kind, msg = views.FlashInfo, "Every enabled user has or had a registration code: there is nothing to generate."
	case errors.Is(err, codes.ErrRunInProgress):
		kind, msg = views.FlashInfo, "Codes are already being generated for new users: their progress is below."
	case err != nil:
		return err
	default:
		msg = fmt.Sprintf("Generating registration codes for %s: the progress is below.", models.Plural(run.Total, "user", "users"))
	}
	return h.flashRedirect(c, kind, msg, back)
}

// ClientAccessRun is the progress fragment htmx polls while a run is open. Once the run has
// ended it asks htmx to reload the page, whose counts and button have changed too.
func (h *Handler) ClientAccessRun(c echo.Context) error {
	id, err := web.ID(c, "id")
	if err != nil {
		return err
	}
	if !web.IsHTMX(c) {
		return c.Redirect(http.StatusSeeOther, c.Echo().Reverse("clientaccess"))
	}
	run, err := h.Codes.Run(c.Request().Context(), current(c).Admin, id)
	if err != nil {
		return err
	}
	if !run.Open() {
		c.Response().Header().Set("HX-Refresh", "true")
	}
	return web.Render(c, http.StatusOK, capages.RunStatus(h.page(c, "", "clientaccess"), codeRunView(c, run)))
}
