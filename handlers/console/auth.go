package console

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"onramp/handlers/forms"
	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/auth"
	"onramp/views"
	authpages "onramp/views/pages/auth"
)

// LoginPage serves GET /login.
func (h *Handler) LoginPage(c echo.Context) error {
	if current(c) != nil {
		return c.Redirect(http.StatusSeeOther, c.Echo().Reverse("home"))
	}
	f, err := h.ssoLoginForm(c, authpages.LoginForm{Next: web.SafeNext(c.QueryParam("next"), "/"), Account: c.QueryParam("account")})
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, authpages.Login(h.page(c, "Sign in", ""), f))
}

// Login serves POST /login.
func (h *Handler) Login(c echo.Context) error {
	var f forms.Login
	if err := c.Bind(&f); err != nil {
		return err
	}
	next := web.SafeNext(f.Next, "/")
	ctx := c.Request().Context()
	// A new sign-in replaces whatever session this browser had.
	if cur := current(c); cur != nil {
		if err := h.Auth.Discard(ctx, cur.SessionID); err != nil {
			return err
		}
	}
	_, token, err := h.Auth.SignIn(ctx, auth.SignInInput{Email: f.Email, Password: f.Password, TOTP: f.TOTP},
		c.RealIP(), c.Request().UserAgent())
	if err != nil {
		r, ok := web.SignInRefusal(c, err, auth.ErrMFARequired, auth.ErrWrongCode)
		var off *auth.PasswordOffError
		form := authpages.LoginForm{Email: f.Email, Next: next}
		switch {
		case ok:
		case errors.As(err, &off):
			r.Status, r.Msg = http.StatusForbidden, "Password sign-in is turned off for your administrator account: sign in with single sign-on below."
			form.Account = off.Account
		case errors.Is(err, models.ErrUnauthorized):
			r.Msg = "The email or password is not right."
		default:
			return err
		}
		form.Error, form.CodeError = r.Msg, r.CodeMsg
		if form, err = h.ssoLoginForm(c, form); err != nil {
			return err
		}
		return web.Render(c, r.Status, authpages.Login(h.page(c, "Sign in", ""), form))
	}
	if err := h.Cookie.Start(c, token); err != nil {
		return err
	}
	if next == "" {
		next = c.Echo().Reverse("home")
	}
	return web.Redirect(c, next)
}

// Logout serves POST /logout.
func (h *Handler) Logout(c echo.Context) error {
	if err := h.Auth.SignOut(c.Request().Context(), current(c), c.RealIP()); err != nil {
		return err
	}
	if err := h.Cookie.End(c); err != nil {
		return err
	}
	return h.flashRedirect(c, views.FlashSuccess, "You are signed out.", c.Echo().Reverse("login"))
}

// SetupPage serves GET /setup.
func (h *Handler) SetupPage(c echo.Context) error {
	web.NoReferrer(c)
	token := c.QueryParam("token")
	if err := h.Auth.CheckSetupLink(c.Request().Context(), token); err != nil {
		return h.linkGone(c, err, "setup")
	}
	return web.Render(c, http.StatusOK, authpages.Setup(h.page(c, "Set up Onramp", ""), authpages.SetupForm{Token: token}))
}

// Setup serves POST /setup.
func (h *Handler) Setup(c echo.Context) error {
	web.NoReferrer(c)
	var f forms.Setup
	if err := c.Bind(&f); err != nil {
		return err
	}
	token := c.QueryParam("token")
	in := auth.SetupInput{Account: f.Account, Email: f.Email, Name: f.Name, Password: f.Password}
	_, sessionToken, err := h.Auth.CompleteSetup(c.Request().Context(), token, in, c.RealIP(), c.Request().UserAgent())
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		return web.Render(c, http.StatusUnprocessableEntity, authpages.Setup(h.page(c, "Set up Onramp", ""),
			authpages.SetupForm{Token: token, Account: f.Account, Email: f.Email, Name: f.Name, Errors: ve.Fields}))
	case err != nil:
		return h.linkGone(c, err, "setup")
	}
	if err := h.Cookie.Start(c, sessionToken); err != nil {
		return err
	}
	return h.flashRedirect(c, views.FlashSuccess, "Welcome to Onramp. Your account is ready.", c.Echo().Reverse("home"))
}

// linkGone renders the "link no longer works" page for models.ErrGone and passes other errors on.
func (h *Handler) linkGone(c echo.Context, err error, what string) error {
	if !errors.Is(err, models.ErrGone) {
		return err
	}
	return web.Render(c, http.StatusGone, authpages.LinkGone(h.page(c, "Link expired", ""), what))
}

// PasswordLinkPage serves GET /set-password/:token.
func (h *Handler) PasswordLinkPage(c echo.Context) error {
	web.NoReferrer(c)
	token := c.Param("token")
	admin, err := h.Auth.PasswordLinkAdmin(c.Request().Context(), token)
	if err != nil {
		return h.linkGone(c, err, "set-password")
	}
	return web.Render(c, http.StatusOK, authpages.SetPassword(h.page(c, "Choose your password", ""),
		authpages.SetPasswordForm{Token: token, Email: admin.Email}))
}

// PasswordLink serves POST /set-password/:token.
func (h *Handler) PasswordLink(c echo.Context) error {
	web.NoReferrer(c)
	token := c.Param("token")
	ctx := c.Request().Context()
	admin, err := h.Auth.PasswordLinkAdmin(ctx, token)
	if err != nil {
		return h.linkGone(c, err, "set-password")
	}
	var f forms.NewPassword
	if err := c.Bind(&f); err != nil {
		return err
	}
	err = f.Validate()
	if err == nil {
		_, err = h.Auth.UsePasswordLink(ctx, token, f.Password, c.RealIP())
	}
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		return web.Render(c, http.StatusUnprocessableEntity, authpages.SetPassword(h.page(c, "Choose your password", ""),
			authpages.SetPasswordForm{Token: token, Email: admin.Email, Errors: ve.Fields}))
	case err != nil:
		return h.linkGone(c, err, "set-password")
	}
	return h.flashRedirect(c, views.FlashSuccess, "Your password is set. Sign in with it now.", c.Echo().Reverse("login"))
}

// ChangePasswordPage serves GET /account/password.
func (h *Handler) ChangePasswordPage(c echo.Context) error {
	return web.Render(c, http.StatusOK, authpages.ChangePassword(h.page(c, "Change password", ""), authpages.ChangePasswordForm{}))
}

// ChangePassword serves POST /account/password.
func (h *Handler) ChangePassword(c echo.Context) error {
	var f forms.NewPassword
	if err := c.Bind(&f); err != nil {
		return err
	}
	err := f.Validate()
	if err == nil {
		err = h.Auth.ChangePassword(c.Request().Context(), current(c), f.Current, f.Password, c.RealIP())
	}
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		return web.Render(c, http.StatusUnprocessableEntity, authpages.ChangePassword(h.page(c, "Change password", ""),
			authpages.ChangePasswordForm{Errors: ve.Fields}))
	case err != nil:
		return err
	}
	return h.flashRedirect(c, views.FlashSuccess, "Your password is changed. Your other sessions are signed out.", c.Echo().Reverse("home"))
}
