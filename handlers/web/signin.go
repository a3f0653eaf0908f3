package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"onramp/models"
)

// Refusal is how a sign-in form answers a refused sign-in: a status, and a message for the
// whole form or for its authenticator code field.
type Refusal struct {
	Status       int
	Msg, CodeMsg string
}

// SignInRefusal words the refusals the console's and the portal's sign-in share: too many
// failures, and a missing or wrong authenticator code (each side has its own errors for those,
// given as mfaRequired and wrongCode). For any other error ok is false and r is a 401 without
// a message, for the caller to word.
func SignInRefusal(c echo.Context, err, mfaRequired, wrongCode error) (r Refusal, ok bool) {
	r.Status = http.StatusUnauthorized
	var rl *models.RateLimitError
	switch {
	case errors.As(err, &rl):
		c.Response().Header().Set("Retry-After", strconv.Itoa(RetrySeconds(rl)))
		r.Status, r.Msg = http.StatusTooManyRequests,
			fmt.Sprintf("Too many failed sign-in attempts. Try again in %s.", HumanWait(rl.RetryAfter))
	case errors.Is(err, models.ErrBusy):
		c.Response().Header().Set("Retry-After", strconv.Itoa(BusyRetrySeconds))
		r.Status, r.Msg = http.StatusServiceUnavailable, "Many people are signing in at this moment. Try again in a few seconds."
	case errors.Is(err, mfaRequired):
		r.CodeMsg = "Your account has two-step verification: enter your password again with the code from your authenticator app."
	case errors.Is(err, wrongCode):
		r.CodeMsg = "The authenticator code is not right. Enter your password again with the 6 digits your app shows now."
	default:
		return r, false
	}
	return r, true
}
