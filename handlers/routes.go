package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"onramp/models"
)

// access says who may call a route.
type access int

const (
	public    access = iota // anyone
	signedIn                // any active admin or helpdesk user
	adminOnly               // role admin
	// The MyVPN portal's levels: its own session (the portal cookie), never the console's.
	portalPublic // anyone; the portal session is loaded when there is one
	portalUser   // a signed-in portal user; others go to the portal's sign-in page
	// clientAPI is the VPN client API (JSON): no cookies, no CSRF, no console session; /session
	// authenticates with the device token itself.
	clientAPI
)

type route struct {
	method  string
	path    string
	name    string
	handler echo.HandlerFunc
	access  access
}

// routes is the one route table: every path, its name (views and redirects build URLs from it)
// and who may call it.
func (h *Handler) routes() []route {
	return []route{
		{http.MethodGet, "/healthz", "healthz", h.healthz, public},
		{http.MethodGet, "/readyz", "readyz", h.readyz, public},

		{http.MethodGet, "/login", "login", h.loginPage, public},
		{http.MethodPost, "/login", "login.submit", h.login, public},
		{http.MethodPost, "/logout", "logout", h.logout, signedIn},
		{http.MethodGet, "/setup", "setup", h.setupPage, public},
		{http.MethodPost, "/setup", "setup.submit", h.setup, public},
		{http.MethodGet, "/set-password/:token", "password.link", h.passwordLinkPage, public},
		{http.MethodPost, "/set-password/:token", "password.link.submit", h.passwordLink, public},

		{http.MethodGet, "/", "home", h.home, signedIn},
		{http.MethodGet, "/account/password", "account.password", h.changePasswordPage, signedIn},
		{http.MethodPost, "/account/password", "account.password.submit", h.changePassword, signedIn},
		{http.MethodGet, "/account/two-step", "account.twostep", h.twoStepPage, signedIn},
		{http.MethodPost, "/account/two-step", "account.twostep.submit", h.twoStepConfirm, signedIn},
		{http.MethodPost, "/account/two-step/remove", "account.twostep.remove", h.twoStepRemove, signedIn},

		{http.MethodGet, "/access/users", "users.list", h.usersList, signedIn},
		{http.MethodPost, "/access/users", "users.create", h.usersCreate, adminOnly},
		{http.MethodGet, "/access/users/new", "users.new", h.usersNew, adminOnly},
		{http.MethodGet, "/access/users/:id", "users.show", h.usersShow, signedIn},
		{http.MethodPost, "/access/users/actions", "users.actions", h.usersActions, signedIn},
		{http.MethodGet, "/access/users/runs/:id", "users.run", h.usersRun, signedIn},
		{http.MethodGet, "/access/directory-services/provisioning", "provisioning", h.provisioningPage, adminOnly},
		{http.MethodPost, "/access/directory-services/provisioning", "provisioning.save", h.provisioningSave, adminOnly},
		{http.MethodGet, "/access/directory-services/provisioning/codes.csv", "provisioning.codes", h.codesCSV, adminOnly},
		{http.MethodGet, "/access/client-access", "clientaccess", h.clientAccessPage, adminOnly},
		{http.MethodPost, "/access/client-access/generate-codes", "clientaccess.generate", h.clientAccessGenerate, adminOnly},
		{http.MethodGet, "/access/client-access/runs/:id", "clientaccess.run", h.clientAccessRun, adminOnly},

		{http.MethodGet, "/myvpn/activate/:token", "portal.activate", h.portalActivatePage, portalPublic},
		{http.MethodPost, "/myvpn/activate/:token", "portal.activate.submit", h.portalActivate, portalPublic},
		{http.MethodGet, "/myvpn/login", "portal.login", h.portalLoginPage, portalPublic},
		{http.MethodPost, "/myvpn/login", "portal.login.submit", h.portalLogin, portalPublic},
		{http.MethodPost, "/myvpn/logout", "portal.logout", h.portalLogout, portalUser},
		{http.MethodGet, "/myvpn", "portal.home", h.portalHome, portalUser},
		{http.MethodGet, "/myvpn/password", "portal.password", h.portalPasswordPage, portalUser},
		{http.MethodPost, "/myvpn/password", "portal.password.submit", h.portalPassword, portalUser},
		{http.MethodGet, "/myvpn/mfa", "portal.mfa", h.portalMFAPage, portalUser},
		{http.MethodPost, "/myvpn/mfa", "portal.mfa.submit", h.portalMFAConfirm, portalUser},
		{http.MethodPost, "/myvpn/mfa/remove", "portal.mfa.remove", h.portalMFARemove, portalUser},

		{http.MethodPost, "/access/users/:id/devices/:device/sign-out", "users.device.signout", h.usersDeviceSignOut, signedIn},
		{http.MethodPost, "/myvpn/devices/:device/sign-out", "portal.device.signout", h.portalDeviceSignOut, portalUser},

		{http.MethodPost, "/api/v1/client/register", "client.register", h.clientRegister, clientAPI},
		{http.MethodPost, "/api/v1/client/login", "client.login", h.clientLogin, clientAPI},
		{http.MethodGet, "/api/v1/client/session", "client.session", h.clientSession, clientAPI},

		{http.MethodGet, "/events", "events", h.eventsList, signedIn},
		{http.MethodGet, "/events.csv", "events.csv", h.eventsCSV, signedIn},
		{http.MethodGet, "/events/:id", "events.show", h.eventsShow, signedIn},

		{http.MethodGet, "/outbox", "outbox", h.outboxList, adminOnly},
		{http.MethodPost, "/outbox/send-held", "outbox.send_held", h.outboxSendHeld, adminOnly},
		{http.MethodGet, "/outbox/:id", "outbox.message", h.outboxMessage, adminOnly},
		{http.MethodGet, "/outbox/:id/html", "outbox.html", h.outboxHTML, adminOnly},

		{http.MethodGet, "/settings/administrators", "admins.list", h.adminsList, adminOnly},
		{http.MethodPost, "/settings/administrators", "admins.create", h.adminsCreate, adminOnly},
		{http.MethodPost, "/settings/administrators/:id/role", "admins.role", h.adminsRole, adminOnly},
		{http.MethodPost, "/settings/administrators/:id/disable", "admins.disable", h.adminsDisable, adminOnly},
		{http.MethodPost, "/settings/administrators/:id/enable", "admins.enable", h.adminsEnable, adminOnly},
		{http.MethodPost, "/settings/administrators/:id/link", "admins.link", h.adminsLink, adminOnly},
		{http.MethodPost, "/settings/administrators/:id/two-step/remove", "admins.twostep.remove", h.adminsTwoStepRemove, adminOnly},
	}
}

func (h *Handler) register(e *echo.Echo) {
	for _, r := range h.routes() {
		e.Add(r.method, r.path, r.handler, h.require(r.access)).Name = r.name
	}
}

// require enforces a route's access rule: signed-out visitors go to the sign-in page, helpdesk
// users get 403 on admin-only routes.
func (h *Handler) require(a access) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if a == public {
				return next(c)
			}
			if a == clientAPI {
				// Answers carry device tokens and account data: never cached.
				c.Response().Header().Set("Cache-Control", "no-store")
				return next(c)
			}
			if a == portalPublic || a == portalUser {
				return h.requirePortal(c, a, next)
			}
			cur := current(c)
			if cur == nil {
				return h.toLogin(c)
			}
			if a == adminOnly && cur.Admin.Role != models.RoleAdmin {
				return echo.NewHTTPError(http.StatusForbidden, "This page is for account admins only.")
			}
			// Signed-in pages show account data: never cache them.
			c.Response().Header().Set("Cache-Control", "no-store")
			return next(c)
		}
	}
}

// requirePortal loads the portal session and enforces the portal's levels. Portal pages show
// personal data and activation links carry tokens: none of them is cached.
func (h *Handler) requirePortal(c echo.Context, a access, next echo.HandlerFunc) error {
	if err := h.loadPortal(c); err != nil {
		return err
	}
	if a == portalUser && currentPortal(c) == nil {
		return toSignIn(c, "portal.login")
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return next(c)
}
