// Package signon is the single sign-on redirect URI (GET /sso/callback): it completes the
// sign-in attempt (models/sso) and hands the result, or the refusal, to the audience that
// began it, by the attempt's purpose. Each audience implements Finisher: the portal for
// sso.PurposePortal, the client API for sso.PurposeClient, the console for sso.PurposeConsole.
package signon

import (
	"errors"

	"github.com/labstack/echo/v4"

	"onramp/handlers/web"
	"onramp/models/sso"
)

// Finisher is an audience's end of a sign-in attempt.
type Finisher interface {
	// FinishSSO acts on a verified identity (sign in, activate, approve a device...); it may
	// still refuse, through sso.Service.Refuse and SSORefused.
	FinishSSO(c echo.Context, r *sso.Result) error
	// SSORefused renders a refusal in the audience's frame, with its message and a way back.
	SSORefused(c echo.Context, ref *sso.Refusal) error
}

// Handler serves the callback.
type Handler struct {
	sso       *sso.Service
	finishers map[sso.Purpose]Finisher
	fallback  Finisher
}

// New builds the callback over the finishers of each purpose; fallback renders refusals whose
// purpose is unknown (a forged state) or has no finisher.
func New(s *sso.Service, finishers map[sso.Purpose]Finisher, fallback Finisher) *Handler {
	return &Handler{sso: s, finishers: finishers, fallback: fallback}
}

// Callback serves GET /sso/callback. The URL carries a one-time code: no referrer leaves
// with it and the answer is not cached.
func (h *Handler) Callback(c echo.Context) error {
	web.NoReferrer(c)
	c.Response().Header().Set("Cache-Control", "no-store")
	q := c.QueryParams()
	r, err := h.sso.Complete(c.Request().Context(), sso.Callback{State: q.Get("state"), Code: q.Get("code"),
		Error: q.Get("error"), ErrorDescription: q.Get("error_description"), Binding: web.SSOBindingValue(c), IP: c.RealIP()})
	var ref *sso.Refusal
	if errors.As(err, &ref) {
		return h.finisher(ref.Login).SSORefused(c, ref)
	}
	if err != nil {
		return err
	}
	return h.finisher(&r.Login).FinishSSO(c, r)
}

func (h *Handler) finisher(l *sso.Login) Finisher {
	if l != nil {
		if f, ok := h.finishers[l.Purpose]; ok {
			return f
		}
	}
	return h.fallback
}
