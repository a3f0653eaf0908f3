package portal

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/sso"
	"onramp/views"
	errpages "onramp/views/pages/errors"
	portalpages "onramp/views/pages/portal"
)

// SSOStart serves GET /myvpn/sso/start?account=<account>: it sends the browser to the
// account's identity provider.
func (h *Handler) SSOStart(c echo.Context) error {
	account := c.QueryParam("account")
	if err := h.SSO.AllowBegin(c.RealIP()); err != nil {
		return err
	}
	authURL, err := h.SSO.Begin(c.Request().Context(), account, sso.PurposePortal, "", web.SSOBinding(c, h.Secure))
	switch {
	case errors.Is(err, sso.ErrNotEnabled):
		return web.Render(c, http.StatusNotFound, portalpages.Login(h.page(c, "Sign in"), portalpages.LoginForm{Account: account,
			Error: "Single sign-on is not turned on for this account. Check the account name, or sign in with your password."}))
	case errors.Is(err, sso.ErrProviderUnreachable):
		return h.providerUnreachable(c)
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, authURL)
}

// FinishSSO signs in (and the first time activates) the SDP user the provider vouched for
// (sso.Finisher).
func (h *Handler) FinishSSO(c echo.Context, r *sso.Result) error {
	ctx := c.Request().Context()
	u, err := h.SSO.PortalUser(ctx, r)
	var ref *sso.Refusal
	if errors.As(err, &ref) {
		return h.SSORefused(c, ref)
	}
	if err != nil {
		return err
	}
	activating := u.Activation != models.ActivationActive
	_, token, err := h.Portal.SignInSSO(ctx, r.Account, u, c.RealIP(), c.Request().UserAgent())
	if err != nil {
		return err
	}
	if err := h.Cookie.Start(c, token); err != nil {
		return err
	}
	msg := "You are signed in with single sign-on."
	if activating {
		msg = "Your account is active. Welcome to MyVPN."
	}
	return h.Cookie.FlashRedirect(c, views.FlashSuccess, msg, c.Echo().Reverse("portal.home"))
}

// SSORefused renders a refused single sign-on in the portal's frame (sso.Finisher).
func (h *Handler) SSORefused(c echo.Context, ref *sso.Refusal) error {
	return h.ssoProblem(c, http.StatusForbidden, "Single sign-on did not work", ref.Message)
}

func (h *Handler) ssoProblem(c echo.Context, status int, title, msg string) error {
	return web.Render(c, status, portalpages.Error(h.page(c, title), errpages.Problem{Status: status, Title: title, Message: msg}))
}

// providerUnreachable says that the account's identity provider did not answer.
func (h *Handler) providerUnreachable(c echo.Context) error {
	return h.ssoProblem(c, http.StatusBadGateway, "The identity provider cannot be reached",
		"Onramp could not reach your company's identity provider. Try again in a minute; if it keeps happening, tell your administrator.")
}
