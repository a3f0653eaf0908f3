// Package handlers is Onramp's HTTP layer: the one route table, the middleware stack, and short
// handlers that bind a form, call one service method and render a view or redirect.
package handlers

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"onramp/handlers/middleware"
	"onramp/models/secret"
	"onramp/models/services"
	"onramp/static"
)

// Config is how the HTTP layer is served.
type Config struct {
	// Keys derive the cookie keys.
	Keys *secret.Keys
	// BaseURL is the public URL of the console (for links shown to people).
	BaseURL string
	// Secure marks cookies Secure and sends HSTS: set when served over HTTPS.
	Secure bool
	// Dev shows error details on 500 pages.
	Dev bool
	// TrustProxy takes the client IP from X-Forwarded-For (only behind a proxy that sets it).
	TrustProxy bool
	Logger     *slog.Logger
}

// Handler holds the dependencies of every handler.
type Handler struct {
	*services.Services
	Config
	cookies       *sessions.CookieStore
	portalCookies *sessions.CookieStore // the MyVPN portal's own cookie (portal_session.go)
}

// New builds the router with every route and middleware.
func New(sv *services.Services, d Config) *echo.Echo {
	h := &Handler{Services: sv, Config: d}
	h.cookies = sessions.NewCookieStore(d.Keys.Derive("cookie-hash"), d.Keys.Derive("cookie-block"))
	h.cookies.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int(sv.Auth.Sessions().Config().AbsoluteTimeout / time.Second),
		HttpOnly: true,
		Secure:   d.Secure,
		SameSite: http.SameSiteLaxMode,
	}
	h.portalCookies = newPortalCookies(h)

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = h.handleError
	if d.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	} else {
		e.IPExtractor = echo.ExtractIPDirect()
	}
	e.Pre(echomw.RemoveTrailingSlashWithConfig(echomw.TrailingSlashConfig{RedirectCode: http.StatusMovedPermanently}))
	e.Use(
		echomw.RequestID(),
		middleware.RequestLogger(d.Logger),
		echomw.Recover(),
		echomw.BodyLimit("2M"),
		middleware.SecurityHeaders(d.Secure),
		middleware.FetchMetadata(),
		echomw.CSRFWithConfig(echomw.CSRFConfig{
			TokenLookup:    "header:X-CSRF-Token,form:_csrf",
			CookieName:     "onramp_csrf",
			CookiePath:     "/",
			CookieHTTPOnly: true,
			CookieSecure:   d.Secure,
			CookieSameSite: http.SameSiteLaxMode,
			// The client API carries no cookies (a bearer token or nothing), so there is no
			// session for a forged request to ride on.
			Skipper: func(c echo.Context) bool { return isStatic(c) || isProbe(c) || isAPIPath(c) },
			ErrorHandler: func(error, echo.Context) error {
				return echo.NewHTTPError(http.StatusForbidden, "The form expired or did not come from this site. Reload the page and try again.")
			},
		}),
		h.loadSession,
	)
	e.StaticFS("/static", static.FS)
	h.register(e)
	return e
}

func isStatic(c echo.Context) bool {
	p := c.Request().URL.Path
	return len(p) >= 8 && p[:8] == "/static/"
}

// isProbe matches the health checks, which load balancers call without cookies.
func isProbe(c echo.Context) bool {
	p := c.Request().URL.Path
	return p == "/healthz" || p == "/readyz"
}
