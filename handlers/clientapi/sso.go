package clientapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"onramp/models/devices"
)

type ssoStartRequest struct {
	Account    string `json:"account"`
	DeviceName string `json:"device_name"`
	Platform   string `json:"platform"`
}

type ssoStartResponse struct {
	LoginURL  string `json:"login_url"`
	PollToken string `json:"poll_token"`
	Interval  int    `json:"interval"`
	ExpiresIn int    `json:"expires_in"`
}

type ssoPollRequest struct {
	PollToken string `json:"poll_token"`
}

// SSOStart serves POST /api/v1/client/sso/start: a sign-in with the account's identity
// provider begins; the client shows login_url to the person and polls with poll_token.
func (h *Handler) SSOStart(c echo.Context) error {
	var req ssoStartRequest
	if err := decodeJSON(c, &req); err != nil {
		return h.devices.RefuseRequest(c.Request().Context(), devices.CallSSOStart, c.RealIP(), err)
	}
	start, err := h.devices.StartSSO(c.Request().Context(),
		devices.SSOStartInput{Account: req.Account, DeviceName: req.DeviceName, Platform: req.Platform}, c.RealIP())
	if err != nil {
		return clientError(err)
	}
	return c.JSON(http.StatusOK, ssoStartResponse{LoginURL: h.linkURL(start.LinkSecret), PollToken: start.PollToken,
		Interval: int(start.Interval / time.Second), ExpiresIn: int(start.ExpiresIn / time.Second)})
}

// SSOPoll serves POST /api/v1/client/sso/poll: 428 authorization_pending (or slow_down) until
// the person signed in, then 201 with the device, as /register.
func (h *Handler) SSOPoll(c echo.Context) error {
	var req ssoPollRequest
	if err := decodeJSON(c, &req); err != nil {
		return h.devices.RefuseRequest(c.Request().Context(), devices.CallSSOPoll, c.RealIP(), err)
	}
	reg, err := h.devices.PollSSO(c.Request().Context(), req.PollToken, c.RealIP())
	if err != nil {
		return clientError(err)
	}
	return c.JSON(http.StatusCreated, registrationJSON(reg))
}

// ssoError gives the device flow's outcomes their status and code (docs/sso.md), or nil for
// any other error.
func ssoError(err error) error {
	api := func(status int, code, msg string) error {
		return &APIError{Status: status, Code: code, Message: msg, Err: err}
	}
	var refused *devices.SSORefusedError
	switch {
	case errors.Is(err, devices.ErrAuthorizationPending):
		return api(http.StatusPreconditionRequired, "authorization_pending", "Waiting for the sign-in in the browser: open the link and sign in with your identity provider.")
	case errors.Is(err, devices.ErrSlowDown):
		return api(http.StatusPreconditionRequired, "slow_down", "Polling too often: wait 5 seconds more between polls.")
	case errors.Is(err, devices.ErrInvalidPollToken):
		return api(http.StatusUnauthorized, "invalid_poll_token", "This poll token is not one the server gave. Start the sign-in again.")
	case errors.Is(err, devices.ErrPollTokenUsed):
		return api(http.StatusGone, "poll_token_used", "This sign-in already registered its device: a poll token works once. Start the sign-in again for another device.")
	case errors.Is(err, devices.ErrSSOExpired):
		return api(http.StatusGone, "expired_token", "The sign-in was not completed within 10 minutes. Start it again.")
	case errors.As(err, &refused):
		return api(http.StatusForbidden, "access_denied", "The sign-in was refused: "+refused.Reason)
	case errors.Is(err, devices.ErrSSONotEnabled):
		return api(http.StatusForbidden, "sso_not_enabled", "Single sign-on is not turned on for this account. Check the account name, or register with a code or your password.")
	}
	return nil
}
