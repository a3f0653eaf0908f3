package console

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"onramp/handlers/forms"
	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/auth"
	"onramp/models/sso"
	"onramp/views"
	authpages "onramp/views/pages/auth"
	"onramp/views/pages/ssoconsole"
)

// ssoLoginForm fills the sign-in form's single sign-on part: the provider's label when the
// account named signs in to the console with it.
func (h *Handler) ssoLoginForm(c echo.Context, f authpages.LoginForm) (authpages.LoginForm, error) {
	if f.Account == "" {
		return f, nil
	}
	ctx := c.Request().Context()
	on, err := h.Auth.ConsoleSSOOn(ctx, f.Account)
	if err != nil || !on {
		return f, err
	}
	f.Provider, err = h.SSO.ProviderLabel(ctx, f.Account)
	return f, err
}

// SSOStart serves GET /sso/console/start?account=<account>: it sends the browser to the
// identity provider of an account whose admins sign in with it.
func (h *Handler) SSOStart(c echo.Context) error {
	ctx := c.Request().Context()
	account := c.QueryParam("account")
	if err := h.SSO.AllowBegin(c.RealIP()); err != nil {
		return err
	}
	on, err := h.Auth.ConsoleSSOOn(ctx, account)
	if err != nil {
		return err
	}
	authURL := ""
	if on {
		authURL, err = h.SSO.Begin(ctx, account, sso.PurposeConsole, "", web.SSOBinding(c, h.Secure))
	}
	switch {
	case !on || errors.Is(err, sso.ErrNotEnabled):
		return h.ssoLoginRefused(c, http.StatusNotFound, account,
			"Single sign-on to the console is not turned on for this account. Check the account name, or sign in with your password.")
	case errors.Is(err, sso.ErrProviderUnreachable):
		return h.ssoLoginRefused(c, http.StatusBadGateway, account,
			"Onramp could not reach the identity provider. Try again in a minute; break-glass admins can sign in with their password.")
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, authURL)
}

// FinishSSO signs in the admin the identity provider vouched for (sso.Finisher for
// sso.PurposeConsole).
func (h *Handler) FinishSSO(c echo.Context, r *sso.Result) error {
	ctx := c.Request().Context()
	id := auth.SSOIdentity{Email: r.Identity.Email, GivenName: r.Identity.GivenName, FamilyName: r.Identity.FamilyName, Groups: r.Identity.Groups}
	_, token, err := h.Auth.SignInSSO(ctx, r.Account, id, r.IP, c.Request().UserAgent())
	var refused *auth.SSORefusedError
	if errors.As(err, &refused) {
		return h.ssoLoginRefused(c, http.StatusForbidden, r.Account.Name, refused.Message)
	}
	if err != nil {
		return err
	}
	// The callback loads no console session: the new cookie replaces this browser's, whose
	// session (if any) ends with its timeouts.
	if err := h.Cookie.Start(c, token); err != nil {
		return err
	}
	return h.flashRedirect(c, views.FlashSuccess, "You are signed in with single sign-on.", c.Echo().Reverse("home"))
}

// SSORefused renders a refused single sign-on on the console's sign-in page (sso.Finisher).
func (h *Handler) SSORefused(c echo.Context, ref *sso.Refusal) error {
	account := ""
	if ref.Login != nil && ref.Login.Account != nil {
		account = ref.Login.Account.Name
	}
	return h.ssoLoginRefused(c, http.StatusForbidden, account, ref.Message)
}

func (h *Handler) ssoLoginRefused(c echo.Context, status int, account, msg string) error {
	f, err := h.ssoLoginForm(c, authpages.LoginForm{Account: account, Error: msg, Next: "/"})
	if err != nil {
		return err
	}
	return web.Render(c, status, authpages.Login(h.page(c, "Sign in", ""), f))
}

// ConsoleSSOPage serves GET /access/directory-services/sso/console.
func (h *Handler) ConsoleSSOPage(c echo.Context) error {
	cur := current(c)
	s, admins, err := h.Auth.ConsoleSSOAdmins(c.Request().Context(), cur.Account.ID)
	if err != nil {
		return err
	}
	f, err := h.consoleSSOForm(c, s, admins, nil)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, ssoconsole.Page(h.page(c, "Directory Services", "provisioning"), f))
}

// ConsoleSSOSave serves POST /access/directory-services/sso/console.
func (h *Handler) ConsoleSSOSave(c echo.Context) error {
	var f forms.ConsoleSSO
	if err := c.Bind(&f); err != nil {
		return err
	}
	in := auth.ConsoleSSOInput{Enabled: f.Enabled == "on", PasswordSignIn: f.PasswordSignIn == "on", CreateAdmins: f.CreateAdmins == "on",
		AdminGroups: f.AdminGroups, HelpdeskGroups: f.HelpdeskGroups}
	for _, v := range f.BreakGlass {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "break_glass must be admin ids")
		}
		in.BreakGlass = append(in.BreakGlass, id)
	}
	cur := current(c)
	ctx := c.Request().Context()
	err := h.Auth.SaveConsoleSSO(ctx, cur, in, c.RealIP())
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		s, admins, err := h.Auth.ConsoleSSOAdmins(ctx, cur.Account.ID)
		if err != nil {
			return err
		}
		s.Enabled, s.PasswordSignIn, s.CreateAdmins, s.AdminGroups, s.HelpdeskGroups =
			in.Enabled, in.PasswordSignIn, in.CreateAdmins, in.AdminGroups, in.HelpdeskGroups
		form, err := h.consoleSSOForm(c, s, admins, in.BreakGlass)
		if err != nil {
			return err
		}
		form.Errors = ve.Fields
		return web.Render(c, http.StatusUnprocessableEntity, ssoconsole.Page(h.page(c, "Directory Services", "provisioning"), form))
	}
	if err != nil {
		return err
	}
	return h.flashRedirect(c, views.FlashSuccess, "Console sign-in settings saved.", c.Echo().Reverse("sso.console"))
}

// consoleSSOForm is the page's form for settings s and the account's admins; ticked, when not
// nil, are the break-glass admins as typed (else as saved).
func (h *Handler) consoleSSOForm(c echo.Context, s *models.ConsoleSSO, admins []models.Admin, ticked []int64) (ssoconsole.Form, error) {
	cur := current(c)
	provider, err := h.SSO.Settings(c.Request().Context(), cur.Account.ID)
	if err != nil {
		return ssoconsole.Form{}, err
	}
	f := ssoconsole.Form{Enabled: s.Enabled, PasswordSignIn: s.PasswordSignIn, CreateAdmins: s.CreateAdmins,
		AdminGroups: s.AdminGroups, HelpdeskGroups: s.HelpdeskGroups, ProviderReady: provider.Enabled && provider.Issuer != "",
		GroupsClaim: provider.GroupsClaim, LoginURL: h.BaseURL + c.Echo().Reverse("login") + "?account=" + cur.Account.Name}
	for i := range admins {
		a := &admins[i]
		breakGlass := a.BreakGlass
		if ticked != nil {
			breakGlass = slices.Contains(ticked, a.ID)
		}
		f.Admins = append(f.Admins, ssoconsole.Admin{ID: a.ID, Name: a.Name, Email: a.Email, Role: a.Role.Label(),
			Disabled: a.Status != models.AdminActive, NoPassword: !a.HasPassword(), BreakGlass: breakGlass})
	}
	return f, nil
}
