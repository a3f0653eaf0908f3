package portal

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"onramp/handlers/forms"
	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/portal"
	"onramp/views"
	portalpages "onramp/views/pages/portal"
)

// ActivatePage serves GET /myvpn/activate/:token.
func (h *Handler) ActivatePage(c echo.Context) error {
	web.NoReferrer(c)
	token := c.Param("token")
	inv, err := h.Portal.CheckActivation(c.Request().Context(), token)
	if err != nil {
		return h.activationGone(c, err)
	}
	return h.renderActivate(c, http.StatusOK, token, inv, nil)
}

// Activate serves POST /myvpn/activate/:token.
func (h *Handler) Activate(c echo.Context) error {
	web.NoReferrer(c)
	var f forms.NewPassword
	if err := c.Bind(&f); err != nil {
		return err
	}
	token := c.Param("token")
	ctx := c.Request().Context()
	_, sessionToken, err := h.Portal.Activate(ctx, token, portal.ActivateInput{Password: f.Password, Confirm: f.Confirm},
		c.RealIP(), c.Request().UserAgent())
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		inv, err := h.Portal.CheckActivation(ctx, token)
		if err != nil {
			return h.activationGone(c, err)
		}
		return h.renderActivate(c, http.StatusUnprocessableEntity, token, inv, ve.Fields)
	case err != nil:
		return h.activationGone(c, err)
	}
	// Whoever was signed in to the portal in this browser is not any more.
	if cur := current(c); cur != nil {
		if err := h.Portal.Discard(ctx, cur.SessionID); err != nil {
			return err
		}
		if err := h.Cookie.End(c); err != nil {
			return err
		}
	}
	if sessionToken == "" {
		return h.Cookie.FlashRedirect(c, views.FlashSuccess,
			"Your account is active. Sign in with your new password and the code from your authenticator app.",
			c.Echo().Reverse("portal.login"))
	}
	if err := h.Cookie.Start(c, sessionToken); err != nil {
		return err
	}
	return h.Cookie.FlashRedirect(c, views.FlashSuccess, "Your account is active. Welcome to MyVPN.", c.Echo().Reverse("portal.home"))
}

func (h *Handler) renderActivate(c echo.Context, status int, token string, inv *portal.Invitation, errs map[string]string) error {
	p := h.page(c, "Activate your account")
	p.Account = inv.Account.Name
	return web.Render(c, status, portalpages.Activate(p,
		portalpages.ActivateForm{Token: token, Name: inv.User.FirstName, Email: inv.User.Email, Errors: errs}))
}

// activationGone renders the "ask for a new invitation" page (410) for models.ErrGone and
// passes other errors on (a rate limit becomes 429 there).
func (h *Handler) activationGone(c echo.Context, err error) error {
	if !errors.Is(err, models.ErrGone) {
		return err
	}
	return web.Render(c, http.StatusGone, portalpages.LinkGone(h.page(c, "Link no longer works")))
}

// LoginPage serves GET /myvpn/login.
func (h *Handler) LoginPage(c echo.Context) error {
	if current(c) != nil {
		return c.Redirect(http.StatusSeeOther, c.Echo().Reverse("portal.home"))
	}
	account := c.QueryParam("account")
	provider, err := h.SSO.ProviderLabel(c.Request().Context(), account)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, portalpages.Login(h.page(c, "Sign in"),
		portalpages.LoginForm{Account: account, Next: web.SafeNext(c.QueryParam("next"), Path), SSOProvider: provider}))
}

// Login serves POST /myvpn/login.
func (h *Handler) Login(c echo.Context) error {
	var f forms.PortalLogin
	if err := c.Bind(&f); err != nil {
		return err
	}
	next := web.SafeNext(f.Next, Path)
	ctx := c.Request().Context()
	// A new sign-in replaces whatever portal session this browser had.
	if cur := current(c); cur != nil {
		if err := h.Portal.Discard(ctx, cur.SessionID); err != nil {
			return err
		}
	}
	_, token, err := h.Portal.SignIn(ctx, portal.SignInInput{Account: f.Account, Email: f.Email, Password: f.Password, TOTP: f.TOTP},
		c.RealIP(), c.Request().UserAgent())
	if err == nil {
		if err := h.Cookie.Start(c, token); err != nil {
			return err
		}
		if next == "" {
			next = c.Echo().Reverse("portal.home")
		}
		return web.Redirect(c, next)
	}
	r, ok := web.SignInRefusal(c, err, portal.ErrMFARequired, portal.ErrWrongCode)
	switch {
	case ok:
	case errors.Is(err, portal.ErrNotActivated):
		r.Status, r.Msg = http.StatusForbidden,
			"Your account is not activated yet. Open the invitation link in your email to choose a password, or ask your administrator for a new invitation."
	case errors.Is(err, portal.ErrUserDisabled):
		r.Status, r.Msg = http.StatusForbidden, "Your account is disabled. Ask your administrator."
	case errors.Is(err, models.ErrUnauthorized):
		r.Msg = "The account name, email or password is not right. New here? Open the invitation email to choose your password first."
	default:
		return err
	}
	provider, err := h.SSO.ProviderLabel(ctx, f.Account)
	if err != nil {
		return err
	}
	return web.Render(c, r.Status, portalpages.Login(h.page(c, "Sign in"),
		portalpages.LoginForm{Account: f.Account, Email: f.Email, Error: r.Msg, CodeError: r.CodeMsg, Next: next, SSOProvider: provider}))
}

// Logout serves POST /myvpn/logout.
func (h *Handler) Logout(c echo.Context) error {
	if err := h.Portal.SignOut(c.Request().Context(), current(c), c.RealIP()); err != nil {
		return err
	}
	if err := h.Cookie.End(c); err != nil {
		return err
	}
	return h.Cookie.FlashRedirect(c, views.FlashSuccess, "You are signed out.", c.Echo().Reverse("portal.login"))
}

// Home serves GET /myvpn.
func (h *Handler) Home(c echo.Context) error {
	cur := current(c)
	ds, err := h.deviceRows(c) // devices.go
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, portalpages.HomePage(h.page(c, "MyVPN"), portalpages.Home{
		Name: cur.User.FirstName, Email: cur.User.Email, Account: cur.Account.Name, MFA: cur.User.MFAConfigured,
		MFAOffered: cur.Account.OffersMFA(), Devices: ds, Download: h.ClientDownloadURL}))
}

// PasswordPage serves GET /myvpn/password.
func (h *Handler) PasswordPage(c echo.Context) error {
	return web.Render(c, http.StatusOK, portalpages.Password(h.page(c, "Change password"), portalpages.PasswordForm{}))
}

// Password serves POST /myvpn/password.
func (h *Handler) Password(c echo.Context) error {
	var f forms.NewPassword
	if err := c.Bind(&f); err != nil {
		return err
	}
	err := f.Validate()
	if err == nil {
		err = h.Portal.ChangePassword(c.Request().Context(), current(c), f.Current, f.Password, c.RealIP())
	}
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		return web.Render(c, http.StatusUnprocessableEntity, portalpages.Password(h.page(c, "Change password"),
			portalpages.PasswordForm{Errors: ve.Fields}))
	case err != nil:
		return err
	}
	return h.Cookie.FlashRedirect(c, views.FlashSuccess, "Your password is changed. Your other MyVPN sessions are signed out.",
		c.Echo().Reverse("portal.home"))
}

// MFAPage serves GET /myvpn/mfa.
func (h *Handler) MFAPage(c echo.Context) error {
	cur := current(c)
	if cur.User.MFAConfigured {
		return web.Render(c, http.StatusOK, portalpages.MFAOn(h.page(c, "Two-step verification")))
	}
	e, err := h.Portal.BeginTOTP(cur)
	if err != nil {
		return mfaNotOffered(err)
	}
	return h.renderEnroll(c, http.StatusOK, e, nil)
}

// mfaNotOffered says why portal.ErrMFANotOffered refuses, and passes other errors on.
func mfaNotOffered(err error) error {
	if !errors.Is(err, portal.ErrMFANotOffered) {
		return err
	}
	return echo.NewHTTPError(http.StatusForbidden, "Two-step verification is not offered for this account: it hands out "+
		"registration codes for the VPN client, and registration codes do not work with two-step verification. Ask your administrator if you need it.")
}

func (h *Handler) renderEnroll(c echo.Context, status int, e *portal.Enrollment, errs map[string]string) error {
	return web.Render(c, status, portalpages.EnrollPage(h.page(c, "Set up two-step verification"),
		portalpages.Enroll{Secret: e.Secret, QRCode: e.QRCode, Pending: e.Pending, Errors: errs}))
}

// MFAConfirm serves POST /myvpn/mfa.
func (h *Handler) MFAConfirm(c echo.Context) error {
	var f forms.Enroll
	if err := c.Bind(&f); err != nil {
		return err
	}
	cur := current(c)
	err := h.Portal.ConfirmTOTP(c.Request().Context(), cur, f.Pending, f.TOTP, c.RealIP())
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		e, err := h.Portal.ResumeTOTP(cur, f.Pending)
		if err != nil {
			return err
		}
		return h.renderEnroll(c, http.StatusUnprocessableEntity, e, ve.Fields)
	case errors.Is(err, models.ErrConflict):
		return h.Cookie.FlashRedirect(c, views.FlashInfo, "Two-step verification is already on.", c.Echo().Reverse("portal.mfa"))
	case err != nil:
		return mfaNotOffered(err)
	}
	return h.Cookie.FlashRedirect(c, views.FlashSuccess, "Two-step verification is on: signing in now asks for a code from your app.",
		c.Echo().Reverse("portal.home"))
}

// MFARemove asks for confirmation first (without confirm=1 it shows the warning, which
// also asks for the code or password), then turns MFA off.
func (h *Handler) MFARemove(c echo.Context) error {
	var f forms.RemoveMFA
	if err := c.Bind(&f); err != nil {
		return err
	}
	cur := current(c)
	if !cur.User.MFAConfigured {
		return h.Cookie.FlashRedirect(c, views.FlashInfo, "Two-step verification is off.", c.Echo().Reverse("portal.home"))
	}
	if !web.Confirmed(c) {
		return web.Render(c, http.StatusOK, portalpages.RemoveMFA(h.page(c, "Turn off two-step verification"), portalpages.RemoveForm{}))
	}
	err := h.Portal.RemoveTOTP(c.Request().Context(), cur, f.TOTP, f.Password, c.RealIP())
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		return web.Render(c, http.StatusUnprocessableEntity, portalpages.RemoveMFA(h.page(c, "Turn off two-step verification"),
			portalpages.RemoveForm{Errors: ve.Fields}))
	case err != nil:
		return err
	}
	return h.Cookie.FlashRedirect(c, views.FlashSuccess, "Two-step verification is off.", c.Echo().Reverse("portal.home"))
}
