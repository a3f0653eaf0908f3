package web

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"onramp/models"
	errpages "onramp/views/pages/errors"
)

// Problem maps an error to its status and the words an error page or a JSON body shows
// (the error behind a 500 only with debug). A rate limit also sets Retry-After.
func Problem(err error, c echo.Context, debug bool) errpages.Problem {
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
		c.Response().Header().Set("Retry-After", strconv.Itoa(RetrySeconds(rl)))
	case errors.As(err, &ve):
		p.Status = http.StatusUnprocessableEntity
		p.Message = ve.Error()
	case errors.Is(err, models.ErrBusy):
		p.Status = http.StatusServiceUnavailable
		c.Response().Header().Set("Retry-After", strconv.Itoa(BusyRetrySeconds))
	case errors.Is(err, models.ErrUnavailable):
		p.Status = http.StatusServiceUnavailable
		p.Title = "Temporarily unavailable"
		p.Message = "The service cannot reach its database at this moment. Try again in a few seconds."
		c.Response().Header().Set("Retry-After", strconv.Itoa(UnavailableRetrySeconds))
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
		if p.Message == "" {
			p.Message = "This link was already used or has expired."
		}
	case http.StatusTooManyRequests:
		p.Title = "Too many attempts"
		p.Message = "Wait a little and try again."
	case http.StatusServiceUnavailable:
		if p.Title == "" {
			p.Title = "Busy"
			p.Message = "Many people are signing in at this moment. Try again in a few seconds."
		}
	case http.StatusMethodNotAllowed:
		p.Title = "Not allowed"
		p.Message = "This address does not accept that kind of request."
	case http.StatusInternalServerError:
		p.Title = "Something went wrong"
		p.Message = "The error was logged. Try again in a moment; if it keeps happening, give the request ID to your administrator."
		if debug {
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

// BusyRetrySeconds is the Retry-After of a 503 for models.ErrBusy: a hashing slot frees up
// within a second or so.
const BusyRetrySeconds = 2

// UnavailableRetrySeconds is the Retry-After of a 503 for models.ErrUnavailable: a database
// restart takes seconds.
const UnavailableRetrySeconds = 5

// RetrySeconds is a rate limit's Retry-After, in whole seconds (at least 1).
func RetrySeconds(rl *models.RateLimitError) int {
	return max(1, int(math.Ceil(rl.RetryAfter.Seconds())))
}

// HumanWait says a wait in whole minutes, rounded up, as every duration is written
// (models.FormatDuration): "1 minute", "3 minutes".
func HumanWait(d time.Duration) string {
	return models.FormatDuration(max(time.Minute, (d + time.Minute - 1).Truncate(time.Minute)))
}

// LogFailure logs a request that failed with a 5xx, with its request id.
func LogFailure(log *slog.Logger, c echo.Context, requestID string, err error) {
	log.ErrorContext(c.Request().Context(), "request failed", "request_id", requestID, "route", c.Path(), "error", err.Error())
}

// Pages renders the errors of an HTML audience as pages in its frame.
type Pages struct {
	Log   *slog.Logger
	Debug bool // show the error behind a 500
	// SignIn is the route a 401 redirects to.
	SignIn string
	// Page is the audience's error page.
	Page func(c echo.Context, p errpages.Problem) templ.Component
}

// Handle renders err: a 401 goes to the sign-in page, 5xx are logged.
func (e Pages) Handle(err error, c echo.Context) {
	p := Problem(err, c, e.Debug)
	if p.Status == http.StatusUnauthorized {
		_ = ToSignIn(c, e.SignIn)
		return
	}
	if p.Status >= 500 && p.Status != http.StatusServiceUnavailable { // busy is load, not a failure
		LogFailure(e.Log, c, p.RequestID, err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(p.Status)
		return
	}
	if rerr := Render(c, p.Status, e.Page(c, p)); rerr != nil {
		_ = c.String(p.Status, p.Title)
	}
}
