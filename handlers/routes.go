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

		{http.MethodGet, "/settings/administrators", "admins.list", h.adminsList, adminOnly},
		{http.MethodPost, "/settings/administrators", "admins.create", h.adminsCreate, adminOnly},
		{http.MethodPost, "/settings/administrators/:id/role", "admins.role", h.adminsRole, adminOnly},
		{http.MethodPost, "/settings/administrators/:id/disable", "admins.disable", h.adminsDisable, adminOnly},
		{http.MethodPost, "/settings/administrators/:id/enable", "admins.enable", h.adminsEnable, adminOnly},
		{http.MethodPost, "/settings/administrators/:id/link", "admins.link", h.adminsLink, adminOnly},
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
