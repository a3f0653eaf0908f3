// Package console is the admin console's HTTP side: sign-in and first-run setup, the Users,
// Directory Services, Client Access, Events, Outbox and Administrators pages, for account admins
// and helpdesk staff. Each handler binds a form, calls one service and renders or redirects;
// the route table (handlers/routes.go) says who may call it.
package console

import (
	"log/slog"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/admins"
	"onramp/models/apitokens"
	"onramp/models/auth"
	"onramp/models/codes"
	"onramp/models/devices"
	"onramp/models/directory"
	"onramp/models/events"
	"onramp/models/mail"
	"onramp/models/provisioning"
	"onramp/models/retention"
	"onramp/models/runs"
	"onramp/models/sso"
	"onramp/models/stream"
	"onramp/models/users"
	"onramp/views"
	"onramp/views/components"
	"onramp/views/pages/confirm"
	errpages "onramp/views/pages/errors"
)

// Deps is what the console's routes use.
type Deps struct {
	Auth         *auth.Service
	Admins       *admins.Service
	Users        *users.Service
	Provisioning *provisioning.Service
	Codes        *codes.Service
	Runs         *runs.Runner
	Devices      *devices.Service
	Directory    *directory.Service
	SSO          *sso.Service
	Events       *events.Service
	Outbox       *mail.Outbox
	Stream       *stream.Service
	Tokens       *apitokens.Service
	Retention    *retention.Service
	// Cookie is the console's session cookie.
	Cookie *web.Cookie
	// BaseURL is the public URL of the console (for links shown to people).
	BaseURL string
	// Debug shows the error behind a 500 on its page.
	Debug bool
	// Secure marks the single sign-on binding cookie Secure (HTTPS).
	Secure bool
	Log    *slog.Logger
}

// Handler serves the console.
type Handler struct {
	Deps
	signed web.Signed[auth.Current]
	errors web.Pages
}

// New builds the console's handlers.
func New(d Deps) *Handler {
	h := &Handler{Deps: d, signed: web.Signed[auth.Current]{Cookie: d.Cookie, Resolve: d.Auth.Resolve}}
	h.errors = web.Pages{Log: d.Log, Debug: d.Debug, SignIn: "login", Page: h.errorPage}
	return h
}

// current is the admin signed in on the request, or nil.
func current(c echo.Context) *auth.Current { return web.Current[auth.Current](c) }

// load finds the admin signed in on the request, if any (web.Signed).
func (h *Handler) load(c echo.Context) error { return h.signed.Load(c) }

// Anyone loads the session when there is one (the sign-in page sends a signed-in admin home).
// These pages are not cached: the setup and set-password pages carry their one-time token.
func (h *Handler) Anyone(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		if err := h.load(c); err != nil {
			return err
		}
		return next(c)
	}
}

// Require lets signed-in admins through (only those with the admin role with adminOnly);
// signed-out visitors go to the sign-in page, helpdesk staff get 403 on admin-only routes.
func (h *Handler) Require(adminOnly bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := h.load(c); err != nil {
				return err
			}
			cur := current(c)
			if cur == nil {
				return web.ToSignIn(c, "login")
			}
			if adminOnly && cur.Admin.Role != models.RoleAdmin {
				return echo.NewHTTPError(http.StatusForbidden, "This page is for account admins only.")
			}
			// Signed-in pages show account data: never cache them.
			c.Response().Header().Set("Cache-Control", "no-store")
			return next(c)
		}
	}
}

// page builds the typed context of a console page, with the flashes queued for it.
func (h *Handler) page(c echo.Context, title, nav string) views.Page {
	p := web.Base(c, title)
	p.Nav = nav
	p.Flashes = h.Cookie.Flashes(c)
	if cur := current(c); cur != nil {
		p.Viewer = &views.Viewer{Name: cur.Admin.Name, Email: cur.Admin.Email, Role: string(cur.Admin.Role), Account: cur.Account.Name}
	}
	return p
}

// flashRedirect queues a message and goes to target.
func (h *Handler) flashRedirect(c echo.Context, kind views.FlashKind, msg, target string) error {
	return h.Cookie.FlashRedirect(c, kind, msg, target)
}

// askConfirm answers a confirm-then-do action without confirm=1: its warning as a dialog for
// htmx, else as a confirmation page in the console section named section (nav is the
// navigation entry to highlight).
func (h *Handler) askConfirm(c echo.Context, p components.ConfirmProps, nav, section string) error {
	return web.AskConfirm(c, p, func(p components.ConfirmProps) templ.Component {
		return confirm.Page(h.page(c, p.Title, nav), section, p)
	})
}

// HandleError renders an error on a console address. Errors raised before a route's access
// check (404, 405) have not loaded the session yet: it is loaded here, so that a signed-in
// admin keeps the navigation.
func (h *Handler) HandleError(err error, c echo.Context) { h.errors.Handle(err, c) }

func (h *Handler) errorPage(c echo.Context, p errpages.Problem) templ.Component {
	if current(c) == nil {
		_ = h.load(c) // best effort: without it the page is the signed-out one
	}
	return errpages.Page(h.page(c, p.Title, ""), p)
}
