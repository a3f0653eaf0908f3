// Package portal is the MyVPN end-user portal's HTTP side: activation from an invitation link,
// sign-in, password change, TOTP enrollment and removal, and the user's own devices. Portal
// pages get a views.PortalPage and the portal's own cookie, scoped to /myvpn: an admin's
// console cookie never reaches a portal handler as a portal session, and the portal cookie is
// never sent to the console. Like the console's, it carries only the session token and
// flashes; who is signed in lives in portal_sessions.
package portal

import (
	"log/slog"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"onramp/handlers/web"
	"onramp/models/devices"
	"onramp/models/portal"
	"onramp/models/sso"
	"onramp/views"
	errpages "onramp/views/pages/errors"
	portalpages "onramp/views/pages/portal"
)

// Path is where the portal lives: its cookie's path, and what ?next= may point into.
const Path = "/myvpn"

// Deps is what the portal's routes use.
type Deps struct {
	Portal  *portal.Service
	Devices *devices.Service
	SSO     *sso.Service
	// Secure marks the single sign-on binding cookie Secure (HTTPS).
	Secure bool
	// Cookie is the portal's session cookie (path Path).
	Cookie *web.Cookie
	// ClientDownloadURL is where to download the VPN client, "" when not configured.
	ClientDownloadURL string
	// BaseURL is the public URL of the server (the /enroll page shows it).
	BaseURL string
	// Debug shows the error behind a 500 on its page.
	Debug bool
	Log   *slog.Logger
}

// Handler serves the portal.
type Handler struct {
	Deps
	signed web.Signed[portal.Current]
	errors web.Pages
}

// New builds the portal's handlers.
func New(d Deps) *Handler {
	h := &Handler{Deps: d, signed: web.Signed[portal.Current]{Cookie: d.Cookie, Resolve: d.Portal.Resolve}}
	h.errors = web.Pages{Log: d.Log, Debug: d.Debug, SignIn: "portal.login", Page: h.errorPage}
	return h
}

// current is the portal user signed in on the request, or nil.
func current(c echo.Context) *portal.Current { return web.Current[portal.Current](c) }

// load finds the portal user signed in on the request, if any (web.Signed). A deleted session
// row (sign-out, Reset password, Disable) ends the session on the very next request.
func (h *Handler) load(c echo.Context) error { return h.signed.Load(c) }

// Require loads the portal session and, with signedIn, sends visitors without one to the
// portal's sign-in page. Portal pages show personal data and activation links carry tokens:
// none of them is cached.
func (h *Handler) Require(signedIn bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := h.load(c); err != nil {
				return err
			}
			if signedIn && current(c) == nil {
				return web.ToSignIn(c, "portal.login")
			}
			c.Response().Header().Set("Cache-Control", "no-store")
			return next(c)
		}
	}
}

// page builds the typed context of a portal page. It never carries the console's viewer or
// flashes: those belong to the console cookie.
func (h *Handler) page(c echo.Context, title string) views.PortalPage {
	p := web.Base(c, title)
	p.Flashes = h.Cookie.Flashes(c)
	pp := views.PortalPage{Page: p}
	if cur := current(c); cur != nil {
		pp.User = &views.PortalViewer{Name: cur.User.FullName(), Email: cur.User.Email, MFA: cur.User.MFAConfigured}
		pp.Account = cur.Account.Name
	}
	return pp
}

// HandleError renders an error on a portal address in the portal's frame.
func (h *Handler) HandleError(err error, c echo.Context) { h.errors.Handle(err, c) }

// errorPage loads the session of errors raised before the route's access check (404, 405), so
// that a signed-in user keeps their frame and the way back.
func (h *Handler) errorPage(c echo.Context, p errpages.Problem) templ.Component {
	if current(c) == nil {
		_ = h.load(c) // best effort: without it the page is the signed-out one
	}
	return portalpages.Error(h.page(c, p.Title), p)
}
