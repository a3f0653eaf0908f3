package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"onramp/handlers/forms"
	"onramp/models"
	"onramp/models/twostep"
	"onramp/views"
	authpages "onramp/views/pages/auth"
)

// The signed-in admin's own two-step verification (TOTP), next to the password page. Turning it
// off for another admin is on the Administrators page (admins.go).

func (h *Handler) twoStepPage(c echo.Context) error {
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
	return render(c, status, authpages.TwoStepPage(h.page(c, "Two-step verification", ""), v))
}

func (h *Handler) twoStepConfirm(c echo.Context) error {
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
		return h.backTo(c, "account.twostep", views.FlashInfo, "Two-step verification is already on.")
	case err != nil:
		return err
	}
	return h.backTo(c, "account.twostep", views.FlashSuccess,
		"Two-step verification is on: signing in now asks for a code from your app. Your other sessions are signed out.")
}

// twoStepRemove shows the warning first (without confirm=1), which asks for a code or the
// password, then turns two-step verification off.
func (h *Handler) twoStepRemove(c echo.Context) error {
	var f forms.RemoveMFA
	if err := c.Bind(&f); err != nil {
		return err
	}
	cur := current(c)
	if !cur.Admin.HasTOTP() {
		return h.backTo(c, "account.twostep", views.FlashInfo, "Two-step verification is off.")
	}
	var err error
	if f.Confirmed() {
		if err = h.Auth.RemoveTOTP(c.Request().Context(), cur, f.TOTP, f.Password, c.RealIP()); err == nil {
			return h.backTo(c, "account.twostep", views.FlashSuccess, "Two-step verification is off.")
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
	return render(c, status, authpages.RemoveTwoStep(h.page(c, "Turn off two-step verification", ""), form))
}

// backTo flashes a message and redirects to a named route.
func (h *Handler) backTo(c echo.Context, route string, kind views.FlashKind, msg string) error {
	if err := h.flash(c, kind, msg); err != nil {
		return err
	}
	return redirect(c, c.Echo().Reverse(route))
}
