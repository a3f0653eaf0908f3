package handlers

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"onramp/models"
	errpages "onramp/views/pages/errors"
)

// handleError is the one place errors become responses.
func (h *Handler) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if isAPIPath(c) {
		h.apiError(err, c)
		return
	}
	p := h.problem(err, c)
	if p.Status == http.StatusUnauthorized {
		_ = h.toLogin(c)
		return
	}
	if p.Status >= 500 {
		h.Logger.ErrorContext(c.Request().Context(), "request failed",
			"request_id", p.RequestID, "route", c.Path(), "error", err.Error())
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(p.Status)
		return
	}
	var page templ.Component
	if isPortalPath(c) {
		page = h.portalErrorPage(c, p)
	} else {
		page = errpages.Page(h.page(c, p.Title, ""), p)
	}
	if rerr := render(c, p.Status, page); rerr != nil {
		_ = c.String(p.Status, p.Title)
	}
}

func (h *Handler) problem(err error, c echo.Context) errpages.Problem {
	p := errpages.Problem{RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}
	var he *echo.HTTPError
	var rl *models.RateLimitError
	var ve *models.ValidationError
	switch {
	case errors.As(err, &he):
		p.Status = he.Code
		if msg, ok := he.Message.(string); ok && he.Code < 500 {
			p.Message = msg
		}
	case errors.Is(err, models.ErrNotFound):
		p.Status = http.StatusNotFound
	case errors.Is(err, models.ErrForbidden):
		p.Status = http.StatusForbidden
	case errors.Is(err, models.ErrUnauthorized):
		p.Status = http.StatusUnauthorized
	case errors.Is(err, models.ErrGone):
		p.Status = http.StatusGone
	case errors.Is(err, models.ErrConflict):
		p.Status = http.StatusConflict
	case errors.As(err, &rl):
		p.Status = http.StatusTooManyRequests
		c.Response().Header().Set("Retry-After", strconv.Itoa(retrySeconds(rl)))
	case errors.As(err, &ve):
		p.Status = http.StatusUnprocessableEntity
		p.Message = ve.Error()
	default:
		p.Status = http.StatusInternalServerError
	}
	switch p.Status {
	case http.StatusNotFound:
		p.Title = "Page not found"
		p.Message = "There is nothing at this address. It may have moved, or you may not have access to it."
	case http.StatusForbidden:
		p.Title = "Not allowed"
		if p.Message == "" {
			p.Message = "Your role does not allow this. Ask an account admin if you need it."
		}
	case http.StatusGone:
		p.Title = "No longer available"
		p.Message = "This link was already used or has expired."
	case http.StatusTooManyRequests:
		p.Title = "Too many attempts"
		p.Message = "Wait a little and try again."
	case http.StatusMethodNotAllowed:
		p.Title = "Not allowed"
		p.Message = "This address does not accept that kind of request."
	case http.StatusInternalServerError:
		p.Title = "Something went wrong"
		p.Message = "The error was logged. Try again in a moment; if it keeps happening, give the request ID to your administrator."
		if h.Dev {
			p.Message = err.Error()
		}
	default:
		if p.Title == "" {
			p.Title = http.StatusText(p.Status)
		}
		if p.Message == "" {
			p.Message = fmt.Sprintf("The request could not be completed (%d).", p.Status)
		}
	}
	return p
}

func retrySeconds(rl *models.RateLimitError) int {
	return max(1, int(math.Ceil(rl.RetryAfter.Seconds())))
}

// isAPIPath reports whether the request is for a JSON API: its errors are JSON, never pages or
// redirects to a sign-in page.
func isAPIPath(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, "/api/") }

// APIError is an error of the JSON APIs with its stable code (SPEC §9): handlers return one to
// say more than the status does; apiError renders it as {"error": code, "message": text}.
type APIError struct {
	Status  int
	Code    string
	Message string
	Err     error // the service's error, for errors.Is; never shown
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }
func (e *APIError) Unwrap() error { return e.Err }

// apiCodes name the errors an API handler did not name itself.
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
}

// apiError renders an error of a JSON API. Statuses, Retry-After and the logging of 5xx are
// the pages' (problem); only the body differs.
func (h *Handler) apiError(err error, c echo.Context) {
	p := h.problem(err, c)
	body := APIError{Status: p.Status, Code: apiCodes[p.Status], Message: p.Message}
	if ae := (*APIError)(nil); errors.As(err, &ae) {
		body.Status, body.Code, body.Message = ae.Status, ae.Code, ae.Message
	}
	switch {
	case body.Status >= 500:
		h.Logger.ErrorContext(c.Request().Context(), "request failed",
			"request_id", p.RequestID, "route", c.Path(), "error", err.Error())
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
	_ = c.JSON(body.Status, apiErrorBody{Error: body.Code, Message: body.Message})
}

// apiErrorBody is the JSON of every API error.
type apiErrorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}
