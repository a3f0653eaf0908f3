package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/a-h/templ"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"onramp/handlers/middleware"
	"onramp/models"
	"onramp/models/portal"
	"onramp/views"
	errpages "onramp/views/pages/errors"
	portalpages "onramp/views/pages/portal"
)

// The MyVPN portal has its own cookie, with its own keys, scoped to the portal's path: an
// admin's console cookie never reaches a portal handler as a portal session, and the portal
// cookie is never sent to the console. Like the console's, it carries only the session token
// and flashes; who is signed in lives in portal_sessions.
const (
	portalCookieName = "onramp_portal"
	portalPath       = "/myvpn"
)

type portalKey struct{}

// currentPortal is the portal user signed in on the request, or nil.
func currentPortal(c echo.Context) *portal.Current {
	cur, _ := c.Request().Context().Value(portalKey{}).(*portal.Current)
	return cur
}

// isPortalPath reports whether the request is for a portal address.
func isPortalPath(c echo.Context) bool {
	p := c.Request().URL.Path
	return p == portalPath || strings.HasPrefix(p, portalPath+"/")
}

func newPortalCookies(h *Handler) *sessions.CookieStore {
	cs := sessions.NewCookieStore(h.Keys.Derive("portal-cookie-hash"), h.Keys.Derive("portal-cookie-block"))
	cs.Options = &sessions.Options{
		Path:     portalPath,
		MaxAge:   int(h.Portal.Sessions().Config().AbsoluteTimeout.Seconds()),
		HttpOnly: true,
		Secure:   h.Secure,
		SameSite: http.SameSiteLaxMode,
	}
	return cs
}

func (h *Handler) portalCookie(c echo.Context) *sessions.Session {
	// A cookie that fails to decode (old keys, tampering, a console cookie) gives a fresh one.
	s, _ := h.portalCookies.Get(c.Request(), portalCookieName)
	return s
}

// loadPortal resolves the portal cookie against the database; require calls it for portal
// routes, so a deleted session row (sign-out, Reset password, Disable) ends the session on the
// very next request.
func (h *Handler) loadPortal(c echo.Context) error {
	token, _ := h.portalCookie(c).Values[tokenKey].(string)
	if token == "" {
		return nil
	}
	cur, err := h.Portal.Resolve(c.Request().Context(), token)
	switch {
	case errors.Is(err, models.ErrUnauthorized):
		return nil
	case err != nil:
		return err
	}
	req := c.Request()
	c.SetRequest(req.WithContext(context.WithValue(req.Context(), portalKey{}, cur)))
	return nil
}

// startPortalSession puts a new session token in a fresh portal cookie (nothing of the old one
// carries across a sign-in).
func (h *Handler) startPortalSession(c echo.Context, token string) error {
	return startToken(c, h.portalCookie(c), token)
}

// endPortalSession removes the token from the portal cookie, keeping flashes.
func (h *Handler) endPortalSession(c echo.Context) error { return endToken(c, h.portalCookie(c)) }

// portalFlash queues a message for the next portal page.
func (h *Handler) portalFlash(c echo.Context, kind views.FlashKind, msg string) error {
	return addFlash(c, h.portalCookie(c), kind, msg)
}

// portalRedirect flashes a message and answers with a redirect (303 or HX-Redirect).
func (h *Handler) portalRedirect(c echo.Context, kind views.FlashKind, msg, target string) error {
	if err := h.portalFlash(c, kind, msg); err != nil {
		return err
	}
	return redirect(c, target)
}

// portalPage builds the typed context of a portal page. It never carries the console's viewer
// or flashes: those belong to the console cookie.
func (h *Handler) portalPage(c echo.Context, title string) views.PortalPage {
	csrf, _ := c.Get(echomw.DefaultCSRFConfig.ContextKey).(string)
	pp := views.PortalPage{Page: views.Page{
		Title:   title,
		Nonce:   middleware.Nonce(c.Request().Context()),
		CSRF:    csrf,
		Routes:  c.Echo().Reverse,
		Flashes: takeFlashes(c, h.portalCookie(c)),
	}}
	if cur := currentPortal(c); cur != nil {
		pp.User = &views.PortalViewer{Name: cur.User.FullName(), Email: cur.User.Email, MFA: cur.User.MFAConfigured}
		pp.Account = cur.Account.Name
	}
	return pp
}

// portalNext accepts only a local portal path for ?next=.
func portalNext(next string) string {
	next = safeNext(next)
	if next != portalPath && !strings.HasPrefix(next, portalPath+"/") && !strings.HasPrefix(next, portalPath+"?") {
		return ""
	}
	return next
}

// portalErrorPage renders an error on a portal address in the portal's frame. Errors raised
// before the route's access check (404, 405) have not loaded the portal session yet: it is
// loaded here, so that a signed-in user keeps their frame and the way back.
func (h *Handler) portalErrorPage(c echo.Context, p errpages.Problem) templ.Component {
	if currentPortal(c) == nil {
		_ = h.loadPortal(c) // best effort: without it the page is the signed-out one
	}
	return portalpages.Error(h.portalPage(c, p.Title), p)
}
