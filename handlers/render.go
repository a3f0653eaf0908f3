package handlers

import (
	"bytes"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"onramp/handlers/middleware"
	"onramp/views"
	"onramp/views/components"
	"onramp/views/pages/confirm"
)

// page builds the typed context every view gets.
func (h *Handler) page(c echo.Context, title, nav string) views.Page {
	csrf, _ := c.Get(echomw.DefaultCSRFConfig.ContextKey).(string)
	p := views.Page{
		Title:   title,
		Nonce:   middleware.Nonce(c.Request().Context()),
		CSRF:    csrf,
		Nav:     nav,
		Routes:  c.Echo().Reverse,
		Flashes: h.popFlashes(c),
	}
	if cur := current(c); cur != nil {
		p.Viewer = &views.Viewer{Name: cur.Admin.Name, Email: cur.Admin.Email, Role: string(cur.Admin.Role), Account: cur.Account.Name}
	}
	return p
}

// render writes a component with a status; it renders into a buffer first so that a failing
// template gives a clean error page rather than half a page.
func render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// isHTMX reports whether htmx sent the request.
func isHTMX(c echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

// redirect answers a POST with 303 See Other, or tells htmx to navigate.
func redirect(c echo.Context, url string) error {
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", url)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, url)
}

// askConfirm answers a confirm-then-do action without confirm=1: its warning as a dialog for
// htmx, else as a confirmation page in the console section named section (nav is the
// navigation entry to highlight).
func (h *Handler) askConfirm(c echo.Context, p components.ConfirmProps, nav, section string) error {
	if isHTMX(c) {
		return render(c, http.StatusOK, components.ConfirmDialog(p))
	}
	return render(c, http.StatusOK, confirm.Page(h.page(c, p.Title, nav), section, p))
}
