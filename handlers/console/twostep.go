package console

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"onramp/handlers/forms"
	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/twostep"
	"onramp/views"
	authpages "onramp/views/pages/auth"
)

// The signed-in admin's own two-step verification (TOTP), next to the password page. Turning it
// off for another admin is on the Administrators page (admins.go).

// TwoStepPage serves GET /account/two-step.
func (h *Handler) TwoStepPage(c echo.Context) error {
	cur := current(c)
	if cur.Admin.HasTOTP() {
		return h.renderTwoStep(c, http.StatusOK, nil, nil)
	}
	e, err := h.Auth.BeginTOTP(cur)
	if err != nil {
		return err
	}
	return h.renderTwoStep(c, http.StatusOK, e, nil)
}

// renderTwoStep shows the page: on when e is nil, else the enrollment with its errors.
func (h *Handler) renderTwoStep(c echo.Context, status int, e *twostep.Enrollment, errs map[string]string) error {
	v := authpages.TwoStep{On: e == nil, Errors: errs}
	if e != nil {
		v.Secret, v.QRCode, v.Pending = e.Secret, e.QRCode, e.Pending
	}
	return web.Render(c, status, authpages.TwoStepPage(h.page(c, "Two-step verification", ""), v))
}

// TwoStepConfirm serves POST /account/two-step.
func (h *Handler) TwoStepConfirm(c echo.Context) error {
	var f forms.Enroll
	if err := c.Bind(&f); err != nil {
		return err
	}
	cur := current(c)
	err := h.Auth.ConfirmTOTP(c.Request().Context(), cur, f.Pending, f.TOTP, c.RealIP())
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		e, err := h.Auth.ResumeTOTP(cur, f.Pending)
		if err != nil {
			return err
		}
		return h.renderTwoStep(c, http.StatusUnprocessableEntity, e, ve.Fields)
	case errors.Is(err, models.ErrConflict):
		return h.flashRedirect(c, views.FlashInfo, "Two-step verification is already on.", c.Echo().Reverse("account.twostep"))
	case err != nil:
		return err
	}
	return h.flashRedirect(c, views.FlashSuccess, "Two-step verification is on: signing in now asks for a code from your app. Your other sessions are signed out.", c.Echo().Reverse("account.twostep"))
}

// TwoStepRemove shows the warning first (without confirm=1), which asks for a code or the
// password, then turns two-step verification off.
func (h *Handler) TwoStepRemove(c echo.Context) error {
	var f forms.RemoveMFA
	if err := c.Bind(&f); err != nil {
		return err
	}
	cur := current(c)
	if !cur.Admin.HasTOTP() {
		return h.flashRedirect(c, views.FlashInfo, "Two-step verification is off.", c.Echo().Reverse("account.twostep"))
	}
	var err error
	if web.Confirmed(c) {
		if err = h.Auth.RemoveTOTP(c.Request().Context(), cur, f.TOTP, f.Password, c.RealIP()); err == nil {
			return h.flashRedirect(c, views.FlashSuccess, "Two-step verification is off.", c.Echo().Reverse("account.twostep"))
		}
	}
	status, form := http.StatusOK, authpages.RemoveTwoStepForm{}
	var ve *models.ValidationError
	switch {
	case err == nil:
	case errors.As(err, &ve):
		status, form.Errors = http.StatusUnprocessableEntity, ve.Fields
	default:
		return err
	}
	return web.Render(c, status, authpages.RemoveTwoStep(h.page(c, "Turn off two-step verification", ""), form))
}
