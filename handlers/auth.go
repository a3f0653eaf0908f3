package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"onramp/handlers/forms"
	"onramp/models"
	"onramp/models/auth"
	"onramp/views"
	authpages "onramp/views/pages/auth"
)

func (h *Handler) loginPage(c echo.Context) error {
	if current(c) != nil {
		return c.Redirect(http.StatusSeeOther, c.Echo().Reverse("home"))
	}
	return render(c, http.StatusOK, authpages.Login(h.page(c, "Sign in", ""), authpages.LoginForm{}))
}

func (h *Handler) login(c echo.Context) error {
	var f forms.Login
	if err := c.Bind(&f); err != nil {
		return err
	}
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
		r, ok := signInRefusal(c, err, auth.ErrMFARequired, auth.ErrWrongCode)
		switch {
		case ok:
		case errors.Is(err, models.ErrUnauthorized):
			r.msg = "The email or password is not right."
		default:
			return err
		}
		return render(c, r.status, authpages.Login(h.page(c, "Sign in", ""),
			authpages.LoginForm{Email: f.Email, Error: r.msg, CodeError: r.codeMsg}))
	}
	if err := h.startSession(c, token); err != nil {
		return err
	}
	next := safeNext(c.QueryParam("next"))
	if next == "" {
		next = c.Echo().Reverse("home")
	}
	return redirect(c, next)
}

// refusal is how a sign-in form answers a refused sign-in: a status, and a message for the
// whole form or for its authenticator code field.
type refusal struct {
	status       int
	msg, codeMsg string
}

// signInRefusal words the refusals the console's and the portal's sign-in share: too many
// failures, and a missing or wrong authenticator code (each side has its own errors for those,
// given as mfaRequired and wrongCode). For any other error ok is false and r is a 401 without
// a message, for the caller to word.
func signInRefusal(c echo.Context, err, mfaRequired, wrongCode error) (r refusal, ok bool) {
	r.status = http.StatusUnauthorized
	var rl *models.RateLimitError
	switch {
	case errors.As(err, &rl):
		c.Response().Header().Set("Retry-After", fmt.Sprint(retrySeconds(rl)))
		r.status, r.msg = http.StatusTooManyRequests,
			fmt.Sprintf("Too many failed sign-in attempts. Try again in %s.", humanWait(rl.RetryAfter))
	case errors.Is(err, mfaRequired):
		r.codeMsg = "Your account has two-step verification: enter your password again with the code from your authenticator app."
	case errors.Is(err, wrongCode):
		r.codeMsg = "The authenticator code is not right. Enter your password again with the 6 digits your app shows now."
	default:
		return r, false
	}
	return r, true
}

func humanWait(d time.Duration) string {
	if d <= time.Minute {
		return "a minute"
	}
	return fmt.Sprintf("%d minutes", int(d.Round(time.Minute)/time.Minute))
}

func (h *Handler) logout(c echo.Context) error {
	if err := h.Auth.SignOut(c.Request().Context(), current(c), c.RealIP()); err != nil {
		return err
	}
	if err := h.endSession(c); err != nil {
		return err
	}
	if err := h.flash(c, views.FlashSuccess, "You are signed out."); err != nil {
		return err
	}
	return redirect(c, c.Echo().Reverse("login"))
}

// noReferrer keeps a page's one-time token out of Referer headers.
func noReferrer(c echo.Context) { c.Response().Header().Set("Referrer-Policy", "no-referrer") }

func (h *Handler) setupPage(c echo.Context) error {
	noReferrer(c)
	token := c.QueryParam("token")
	if err := h.Auth.CheckSetupLink(c.Request().Context(), token); err != nil {
		return h.linkGone(c, err, "setup")
	}
	return render(c, http.StatusOK, authpages.Setup(h.page(c, "Set up Onramp", ""), authpages.SetupForm{Token: token}))
}

func (h *Handler) setup(c echo.Context) error {
	noReferrer(c)
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
		return render(c, http.StatusUnprocessableEntity, authpages.Setup(h.page(c, "Set up Onramp", ""),
			authpages.SetupForm{Token: token, Account: f.Account, Email: f.Email, Name: f.Name, Errors: ve.Fields}))
	case err != nil:
		return h.linkGone(c, err, "setup")
	}
	if err := h.startSession(c, sessionToken); err != nil {
		return err
	}
	if err := h.flash(c, views.FlashSuccess, "Welcome to Onramp. Your account is ready."); err != nil {
		return err
	}
	return redirect(c, c.Echo().Reverse("home"))
}

// linkGone renders the "link no longer works" page for models.ErrGone and passes other errors on.
func (h *Handler) linkGone(c echo.Context, err error, what string) error {
	if !errors.Is(err, models.ErrGone) {
		return err
	}
	return render(c, http.StatusGone, authpages.LinkGone(h.page(c, "Link expired", ""), what))
}

func (h *Handler) passwordLinkPage(c echo.Context) error {
	noReferrer(c)
	token := c.Param("token")
	admin, err := h.Auth.PasswordLinkAdmin(c.Request().Context(), token)
	if err != nil {
		return h.linkGone(c, err, "set-password")
	}
	return render(c, http.StatusOK, authpages.SetPassword(h.page(c, "Choose your password", ""),
		authpages.SetPasswordForm{Token: token, Email: admin.Email}))
}

func (h *Handler) passwordLink(c echo.Context) error {
	noReferrer(c)
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
		return render(c, http.StatusUnprocessableEntity, authpages.SetPassword(h.page(c, "Choose your password", ""),
			authpages.SetPasswordForm{Token: token, Email: admin.Email, Errors: ve.Fields}))
	case err != nil:
		return h.linkGone(c, err, "set-password")
	}
	if err := h.flash(c, views.FlashSuccess, "Your password is set. Sign in with it now."); err != nil {
		return err
	}
	return redirect(c, c.Echo().Reverse("login"))
}

func (h *Handler) changePasswordPage(c echo.Context) error {
	return render(c, http.StatusOK, authpages.ChangePassword(h.page(c, "Change password", ""), authpages.ChangePasswordForm{}))
}

func (h *Handler) changePassword(c echo.Context) error {
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
		return render(c, http.StatusUnprocessableEntity, authpages.ChangePassword(h.page(c, "Change password", ""),
			authpages.ChangePasswordForm{Errors: ve.Fields}))
	case err != nil:
		return err
	}
	if err := h.flash(c, views.FlashSuccess, "Your password is changed. Your other sessions are signed out."); err != nil {
		return err
	}
	return redirect(c, c.Echo().Reverse("home"))
}
