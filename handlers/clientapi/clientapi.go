// Package clientapi is the VPN client's JSON API at /api/v1/client: registering a device with a
// one-time registration code or a password, and checking that a device's credential still
// works. JSON in, JSON out, no cookies and so no CSRF: /session authenticates with the device
// token itself. Errors are APIError values that HandleError renders as
// {"error": code, "message": text}; every outcome writes an event (models/devices).
package clientapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/devices"
	"onramp/models/metrics"
	"onramp/models/portal"
	"onramp/models/text"
)

// maxClientBody is far more than any request of the API needs: a larger body is refused before
// it is read.
const maxClientBody = 16 << 10

// Handler serves the client API.
type Handler struct {
	devices *devices.Service
	// linkURL builds the address of a single sign-on link's page from its secret.
	linkURL func(secret string) string
	metrics *metrics.Metrics
	log     *slog.Logger
}

// New builds the client API's handlers; linkURL gives the public address of a single sign-on
// link's page; m counts the redemptions; failures (5xx) are logged to log.
func New(d *devices.Service, linkURL func(secret string) string, m *metrics.Metrics, log *slog.Logger) *Handler {
	return &Handler{devices: d, linkURL: linkURL, metrics: m, log: log}
}

// NoStore marks every answer uncacheable: they carry device tokens and account data.
func NoStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

type registerRequest struct {
	Code       string `json:"code"`
	DeviceName string `json:"device_name"`
	Platform   string `json:"platform"`
}

type loginRequest struct {
	Account    string `json:"account"`
	Email      string `json:"email"`
	Password   string `json:"password"`
	TOTP       string `json:"totp"`
	DeviceName string `json:"device_name"`
	Platform   string `json:"platform"`
}

type clientUser struct {
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

type registrationResponse struct {
	DeviceID    int64      `json:"device_id"`
	DeviceToken string     `json:"device_token"`
	User        clientUser `json:"user"`
	Account     string     `json:"account"`
}

type sessionResponse struct {
	DeviceID int64      `json:"device_id"`
	User     clientUser `json:"user"`
	Status   string     `json:"status"`
}

func userJSON(u *models.SDPUser) clientUser {
	return clientUser{Email: u.Email, FirstName: u.FirstName, LastName: u.LastName}
}

// Register serves POST /api/v1/client/register.
func (h *Handler) Register(c echo.Context) (err error) {
	defer func() { h.metrics.Redemption(outcome(err)) }()
	var req registerRequest
	if err := decodeJSON(c, &req); err != nil {
		return h.devices.RefuseRequest(c.Request().Context(), devices.CallRegister, c.RealIP(), err)
	}
	reg, err := h.devices.Register(c.Request().Context(),
		devices.RegisterInput{Code: req.Code, DeviceName: req.DeviceName, Platform: req.Platform}, c.RealIP())
	if err != nil {
		return clientError(err)
	}
	return c.JSON(http.StatusCreated, registrationJSON(reg))
}

// Login serves POST /api/v1/client/login.
func (h *Handler) Login(c echo.Context) error {
	var req loginRequest
	if err := decodeJSON(c, &req); err != nil {
		return h.devices.RefuseRequest(c.Request().Context(), devices.CallLogin, c.RealIP(), err)
	}
	reg, err := h.devices.Login(c.Request().Context(), devices.LoginInput{Account: req.Account, Email: req.Email,
		Password: req.Password, TOTP: req.TOTP, DeviceName: req.DeviceName, Platform: req.Platform}, c.RealIP())
	if err != nil {
		return clientError(err)
	}
	return c.JSON(http.StatusCreated, registrationJSON(reg))
}

// Session serves GET /api/v1/client/session.
func (h *Handler) Session(c echo.Context) error {
	sess, err := h.devices.Session(c.Request().Context(), bearerToken(c), c.RealIP())
	if err != nil {
		if errors.Is(err, devices.ErrInvalidToken) {
			c.Response().Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		return clientError(err)
	}
	return c.JSON(http.StatusOK, sessionResponse{DeviceID: sess.Device.ID, User: userJSON(sess.User), Status: "active"})
}

func registrationJSON(reg *devices.Registration) registrationResponse {
	return registrationResponse{DeviceID: reg.Device.ID, DeviceToken: reg.Token, User: userJSON(reg.User), Account: reg.Account.Name}
}

// bearerToken is the token of an "Authorization: Bearer <token>" header, or "".
func bearerToken(c echo.Context) string { return web.BearerToken(c.Request()) }

// decodeJSON reads one JSON object of at most maxClientBody bytes into dst (parseJSON).
func decodeJSON(c echo.Context, dst any) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxClientBody))
	if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
		return badRequest("The request body is larger than 16 KiB.", err)
	}
	if err != nil {
		return badRequest("The request body could not be read.", err)
	}
	return parseJSON(body, dst)
}

// parseJSON reads one JSON object into dst, a pointer to a struct of string fields, each of
// which must be text (models/text): the body must be UTF-8 (Go's decoder would quietly
// replace bad bytes), and a string may not hold a control character (JSON escapes them, as in
// \u0000). The message never quotes the body: it may hold a code or a password.
func parseJSON(body []byte, dst any) error {
	if !utf8.Valid(body) {
		return badRequest(text.Refusal("The request body"), nil)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	err := dec.Decode(dst)
	if _, end := dec.Token(); err == nil && end != io.EOF { // More() misses a stray "}"
		err = errors.New("trailing data after the JSON object")
	}
	if err != nil {
		return badRequest("The request body must be one JSON object with string fields.", err)
	}
	v := reflect.ValueOf(dst).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.String && !text.Valid(f.String()) {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
			msg := text.Refusal(fmt.Sprintf("The field %q", name))
			return badRequest(msg, models.NewValidationError(name, msg))
		}
	}
	return nil
}

// badRequest is a 400 invalid_request with its message; err, when there is one, is what was
// wrong (a *models.ValidationError names the field for the refusal's event).
func badRequest(msg string, err error) error {
	return &APIError{Status: http.StatusBadRequest, Code: "invalid_request", Message: msg, Err: err}
}

// clientError gives a service error of the client API its status and code. Rate limits pass
// through: the error handler answers 429 rate_limited with Retry-After.
func clientError(err error) error {
	api := func(status int, code, msg string) error {
		return &APIError{Status: status, Code: code, Message: msg, Err: err}
	}
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		return api(http.StatusBadRequest, "invalid_request", strings.TrimPrefix(ve.Error(), "invalid input: "))
	case errors.Is(err, devices.ErrInvalidCode):
		return api(http.StatusUnauthorized, "invalid_code", "This registration code is not valid. Check that it was typed correctly, or ask your administrator for a new one.")
	case errors.Is(err, devices.ErrCodeUsed):
		return api(http.StatusGone, "code_used", "This registration code was already used: each code registers one device. Ask your administrator for a new one.")
	case errors.Is(err, devices.ErrCodeExpired):
		return api(http.StatusGone, "code_expired", "This registration code has expired. Ask your administrator for a new one.")
	case errors.Is(err, devices.ErrCodeRevoked):
		return api(http.StatusGone, "code_revoked", "This registration code was revoked. Ask your administrator for a new one.")
	case errors.Is(err, devices.ErrUserDisabled), errors.Is(err, portal.ErrUserDisabled):
		return api(http.StatusForbidden, "user_disabled", "This account is disabled. Ask your administrator.")
	case errors.Is(err, devices.ErrMFAConfigured):
		return api(http.StatusForbidden, "mfa_configured", "This account has two-step verification (MFA), which registration codes do not support: "+
			"register with your email, password and authenticator code instead, or ask your administrator to remove MFA. The code is still valid.")
	case errors.Is(err, devices.ErrInvalidToken):
		return api(http.StatusUnauthorized, "invalid_token", "This device is not signed in any more (signed out, or the account changed). Register it again.")
	case errors.Is(err, portal.ErrMFARequired):
		return api(http.StatusForbidden, "mfa_required", "This account has two-step verification: send the code from the authenticator app as totp.")
	case errors.Is(err, portal.ErrWrongCode):
		return api(http.StatusForbidden, "mfa_required", "The authenticator code is not right or was used already: send the code the app shows now.")
	case errors.Is(err, portal.ErrNotActivated):
		return api(http.StatusForbidden, "not_activated", "This account is not activated yet: open the invitation email to choose a password, or ask your administrator.")
	}
	if apiErr := ssoError(err); apiErr != nil {
		return apiErr
	}
	if errors.Is(err, models.ErrUnauthorized) {
		return api(http.StatusUnauthorized, "invalid_credentials", "The account name, email or password is not right.")
	}
	return err
}

// outcome names how a redemption ended for the metrics: registered, or the API's error code.
func outcome(err error) string {
	var ae *APIError
	var rl *models.RateLimitError
	switch {
	case err == nil:
		return "registered"
	case errors.As(err, &ae):
		return ae.Code
	case errors.As(err, &rl):
		return apiCodes[http.StatusTooManyRequests]
	}
	return "error"
}

// APIError is an error of the client API with its stable code: handlers return one to say
// more than the status does; HandleError renders it as {"error": code, "message": text}.
type APIError struct {
	Status  int
	Code    string
	Message string
	Err     error // the service's error, for errors.Is; never shown
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }
func (e *APIError) Unwrap() error { return e.Err }

// apiCodes name the errors a handler did not name itself.
var apiCodes = map[int]string{
	http.StatusBadRequest:            "invalid_request",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusConflict:              "conflict",
	http.StatusGone:                  "gone",
	http.StatusRequestEntityTooLarge: "request_too_large",
	http.StatusUnsupportedMediaType:  "invalid_request",
	http.StatusUnprocessableEntity:   "invalid_request",
	http.StatusTooManyRequests:       "rate_limited",
	http.StatusServiceUnavailable:    "busy",
}

// HandleError renders an error of the API as JSON. Statuses and Retry-After are the pages'
// (web.Problem); only the body differs, and a 5xx says no more than its request id.
func (h *Handler) HandleError(err error, c echo.Context) {
	p := web.Problem(err, c, false)
	body := APIError{Status: p.Status, Code: apiCodes[p.Status], Message: p.Message}
	if ae := (*APIError)(nil); errors.As(err, &ae) {
		body.Status, body.Code, body.Message = ae.Status, ae.Code, ae.Message
	}
	switch {
	case errors.Is(err, models.ErrUnavailable): // the database is back within seconds, usually
		body.Code = "unavailable"
		body.Message = "The service is temporarily unavailable. Try again in " + c.Response().Header().Get("Retry-After") + " seconds."
	case body.Status == http.StatusServiceUnavailable: // load, not a failure: Retry-After says when
		body.Message = "The server is busy. Try again in " + c.Response().Header().Get("Retry-After") + " seconds."
	case body.Status >= 500:
		web.LogFailure(h.log, c, p.RequestID, err)
		body.Code, body.Message = "internal_error", "The server could not answer. Try again in a moment."
		if p.RequestID != "" {
			body.Message += " Request ID: " + p.RequestID + "."
		}
	case body.Status == http.StatusTooManyRequests:
		body.Message = "Too many failed attempts. Try again in " + c.Response().Header().Get("Retry-After") + " seconds."
	case body.Code == "":
		body.Code = "error"
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(body.Status)
		return
	}
	_ = c.JSON(body.Status, errorBody{Error: body.Code, Message: body.Message})
}

// errorBody is the JSON of every error.
type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}
