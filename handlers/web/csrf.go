package web

import (
	"crypto/rand"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"
)

// The CSRF token: Echo's middleware keeps it in one cookie for the console and the portal, and
// takes it back from the X-CSRF-Token header (htmx) or the form field.
const (
	csrfCookie = "onramp_csrf"
	csrfField  = "_csrf"
	csrfMaxAge = 24 * time.Hour
)

// CSRF checks the token of every state-changing request that skip does not exempt; secure marks
// its cookie Secure. A refused request gets 403.
func CSRF(secure bool, skip echomw.Skipper) echo.MiddlewareFunc {
	check := echomw.CSRFWithConfig(echomw.CSRFConfig{
		TokenLookup:    "header:" + echo.HeaderXCSRFToken + ",form:" + csrfField,
		CookieName:     csrfCookie,
		CookieMaxAge:   int(csrfMaxAge / time.Second),
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   secure,
		CookieSameSite: http.SameSiteLaxMode,
		Skipper:        skip,
		ErrorHandler: func(error, echo.Context) error {
			return echo.NewHTTPError(http.StatusForbidden, "The form expired or did not come from this site. Reload the page and try again.")
		},
	})
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		checked := check(next)
		return func(c echo.Context) error {
			dropQueryToken(c.Request())
			return checked(c)
		}
	}
}

// dropQueryToken removes the token field from the query string before the check. Echo's form
// lookup reads Request.Form, which holds the query string too, and a token in a URL ends up in
// history, logs and Referer headers: only the body and the header may carry it.
func dropQueryToken(r *http.Request) {
	q := r.URL.Query()
	if !q.Has(csrfField) {
		return
	}
	q.Del(csrfField)
	r.URL.RawQuery = q.Encode()
	r.Form = nil // parsed again, without it, by whoever reads it next
}

// renewCSRF replaces the token at a sign-in or a sign-out, so that one seen before is refused.
// The new token goes in the cookie at once, in place of the one the middleware set on this
// answer: a browser never goes without one, which would let concurrent requests each mint
// their own.
func renewCSRF(c echo.Context, secure bool) {
	token := rand.Text()
	c.Set(echomw.DefaultCSRFConfig.ContextKey, token) // for a page this answer renders (CSRFToken)
	h := c.Response().Header()
	var kept []string
	for _, v := range h.Values("Set-Cookie") {
		if !strings.HasPrefix(v, csrfCookie+"=") {
			kept = append(kept, v)
		}
	}
	h.Del("Set-Cookie")
	for _, v := range kept {
		h.Add("Set-Cookie", v)
	}
	http.SetCookie(c.Response(), &http.Cookie{Name: csrfCookie, Value: token, Path: "/", MaxAge: int(csrfMaxAge / time.Second),
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
}
