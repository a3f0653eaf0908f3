// Package handlers is Onramp's HTTP layer: the one route table (routes.go), the middleware
// stack and the error handler in front of the audiences, each a package of its own with only
// what its routes use: console/ (admins and helpdesk), portal/ (MyVPN end users) and
// clientapi/ (VPN clients). What they share is in web/.
package handlers

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"onramp/handlers/api"
	"onramp/handlers/clientapi"
	"onramp/handlers/console"
	"onramp/handlers/middleware"
	"onramp/handlers/portal"
	"onramp/handlers/scim"
	"onramp/handlers/signon"
	"onramp/handlers/web"
	"onramp/models/secret"
	"onramp/models/services"
	"onramp/models/sso"
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
	// Debug shows the error behind a 500 on its page (ONRAMP_DEBUG).
	Debug bool
	// TrustProxy takes the client IP from X-Forwarded-For (only behind a proxy that sets it).
	TrustProxy bool
	// ClientDownloadURL is where users download the VPN client (ONRAMP_CLIENT_DOWNLOAD_URL),
	// linked from MyVPN; "" when not configured.
	ClientDownloadURL string
	// Draining reports that the server is shutting down (/readyz answers 503); nil: never.
	Draining func() bool
	// APIBurst and APIEvery are the admin API's rate limit per token (0: api.DefaultBurst,
	// api.DefaultEvery).
	APIBurst int
	APIEvery time.Duration
	// MetricsToken, when set, serves the Prometheus series at /metrics to requests that carry
	// it as a bearer token (ONRAMP_METRICS_TOKEN); unset, /metrics is 404 on this router.
	MetricsToken string
	Logger       *slog.Logger
}

// audiences are the handlers of each audience, which the route table and the error handler
// pick from.
type audiences struct {
	console *console.Handler
	portal  *portal.Handler
	client  *clientapi.Handler
	scim    *scim.Handler
	api     *api.Handler
	signon  *signon.Handler
	probes  *probes
	static  echo.HandlerFunc
	metrics echo.HandlerFunc
}

// apiPrefix starts the addresses of the JSON APIs: their errors are JSON, never pages or
// redirects to a sign-in page.
const apiPrefix = "/api/"

// New builds the router with every route and middleware.
func New(sv *services.Services, cfg Config) *echo.Echo {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	draining := cfg.Draining
	if draining == nil {
		draining = func() bool { return false }
	}
	e := echo.New()
	base := strings.TrimRight(cfg.BaseURL, "/")
	a := audiences{
		console: console.New(console.Deps{Auth: sv.Auth, Admins: sv.Admins, Users: sv.Users, Provisioning: sv.Provisioning,
			Codes: sv.Codes, Runs: sv.Runs, Devices: sv.Devices, Directory: sv.Directory, Events: sv.Events, Outbox: sv.Outbox, SSO: sv.SSO, Retention: sv.Retention, Tokens: sv.Tokens, Stream: sv.Stream, Secure: cfg.Secure,
			Cookie: web.NewCookie("onramp_session", "/", cfg.Keys, "cookie",
				sv.Auth.Sessions().Config().AbsoluteTimeout, cfg.Secure, log),
			BaseURL: cfg.BaseURL, Debug: cfg.Debug, Log: log}),
		portal: portal.New(portal.Deps{Portal: sv.Portal, Devices: sv.Devices, SSO: sv.SSO, Secure: cfg.Secure,
			Cookie: web.NewCookie("onramp_portal", portal.Path, cfg.Keys, "portal-cookie",
				sv.Portal.Sessions().Config().AbsoluteTimeout, cfg.Secure, log),
			BaseURL: strings.TrimRight(cfg.BaseURL, "/"), ClientDownloadURL: cfg.ClientDownloadURL, Debug: cfg.Debug, Log: log}),
		client: clientapi.New(sv.Devices, func(link string) string { return base + e.Reverse("sso.client", link) }, sv.Metrics, log),
		scim:   scim.New(sv.Directory, log),
		api: api.New(api.Deps{Tokens: sv.Tokens, Users: sv.Users, Codes: sv.Codes, Devices: sv.Devices, Events: sv.Events,
			Provisioning: sv.Provisioning, Stream: sv.Stream, Burst: cfg.APIBurst, Every: cfg.APIEvery, Log: log}),
		probes:  &probes{db: sv, draining: draining},
		static:  serveStatic(static.Files),
		metrics: func(echo.Context) error { return echo.ErrNotFound },
	}
	if cfg.MetricsToken != "" {
		a.metrics = echo.WrapHandler(MetricsHandler(sv.Metrics, cfg.MetricsToken, log))
	}

	// The sign-in attempts of each purpose end with the audience that began them.
	a.signon = signon.New(sv.SSO, map[sso.Purpose]signon.Finisher{sso.PurposePortal: a.portal,
		sso.PurposeClient: a.portal.DeviceSSO(), sso.PurposeConsole: a.console}, a.portal)

	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = a.handleError
	if cfg.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	} else {
		e.IPExtractor = echo.ExtractIPDirect()
	}
	e.Pre(echomw.RemoveTrailingSlashWithConfig(echomw.TrailingSlashConfig{RedirectCode: http.StatusMovedPermanently}))
	e.Use(
		echomw.RequestID(),
		middleware.Metrics(sv.Metrics, a.knownRoute()),
		middleware.RequestLogger(log, isProbe),
		echomw.Recover(),
		echomw.BodyLimit("2M"),
		middleware.SecurityHeaders(cfg.Secure),
		middleware.FetchMetadata(),
		// The JSON APIs check their bodies themselves (clientapi, scim); everything else takes forms.
		middleware.TextInput(func(c echo.Context) bool { return !isAPI(c) && !isSCIM(c) }),
		// The client API carries no cookies (a bearer token or nothing), so there is no session
		// for a forged request to ride on; load balancers call the probes without cookies;
		// static files change nothing; SCIM authenticates every request with a bearer token.
		web.CSRF(cfg.Secure, func(c echo.Context) bool { return isStatic(c) || isProbe(c) || isAPI(c) || isSCIM(c) }),
	)
	a.register(e)
	return e
}

// handleError is the one place errors become responses: the audience of the address renders
// them (JSON for the API, the portal's frame on the portal, the console's page elsewhere).
func (a audiences) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	switch {
	case isAdminAPI(c):
		a.api.HandleError(err, c)
	case isAPI(c):
		a.client.HandleError(err, c)
	case isSCIM(c):
		a.scim.HandleError(err, c)
	case isPortal(c):
		a.portal.HandleError(err, c)
	default:
		a.console.HandleError(err, c)
	}
}

func isStatic(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, "/static/") }

// isProbe says whether the request is for a probe, or for the metrics Prometheus scrapes.
func isProbe(c echo.Context) bool {
	p := c.Request().URL.Path
	return p == "/healthz" || p == "/readyz" || p == MetricsPath
}

func isAPI(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, apiPrefix) }

// isAdminAPI is the admin REST API: /api/v1 but the VPN client's /api/v1/client.
func isAdminAPI(c echo.Context) bool {
	p := c.Request().URL.Path
	return strings.HasPrefix(p, api.Prefix+"/") && !strings.HasPrefix(p, api.Prefix+"/client/") && p != api.Prefix+"/client"
}

func isSCIM(c echo.Context) bool {
	p := c.Request().URL.Path
	return p == scim.Prefix || strings.HasPrefix(p, scim.Prefix+"/")
}

func isPortal(c echo.Context) bool {
	p := c.Request().URL.Path
	return p == portal.Path || strings.HasPrefix(p, portal.Path+"/")
}
