package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"onramp/models"
	"onramp/models/auth"
	"onramp/views"
)

// The cookie holds only the session token and flashes; who is signed in lives in the database.
const (
	cookieName = "onramp_session"
	tokenKey   = "sid"
)

type currentKey struct{}

// current is who is signed in on the request, or nil.
func current(c echo.Context) *auth.Current {
	cur, _ := c.Request().Context().Value(currentKey{}).(*auth.Current)
	return cur
}

func (h *Handler) cookie(c echo.Context) *sessions.Session {
	// A cookie that fails to decode (old keys, tampering) gives a fresh, empty session.
	s, _ := h.cookies.Get(c.Request(), cookieName)
	return s
}

// loadSession resolves the session cookie against the database on every request but static
// files, the MyVPN portal (which has its own session: a console sign-in means nothing there) and
// the client API (no cookies).
// A revoked or expired session is forgotten here.
func (h *Handler) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if isStatic(c) || isProbe(c) || isPortalPath(c) || isAPIPath(c) {
			return next(c)
		}
		token, _ := h.cookie(c).Values[tokenKey].(string)
		if token == "" {
			return next(c)
		}
		cur, err := h.Auth.Resolve(c.Request().Context(), token)
		switch {
		case errors.Is(err, models.ErrUnauthorized):
			return next(c)
		case err != nil:
			return err
		}
		req := c.Request()
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), currentKey{}, cur)))
		return next(c)
	}
}

// The console and the portal each have a cookie of their own (sessions never cross over); both
// hold a session token and flashes, handled by the functions below.

// startToken puts a new session token in a fresh cookie (the old cookie's values are dropped,
// flashes included, so nothing carries across a sign-in).
func startToken(c echo.Context, s *sessions.Session, token string) error {
	s.Values = map[any]any{tokenKey: token}
	return s.Save(c.Request(), c.Response())
}

// endToken removes the token from a cookie, keeping its flashes.
func endToken(c echo.Context, s *sessions.Session) error {
	delete(s.Values, tokenKey)
	return s.Save(c.Request(), c.Response())
}

// addFlash queues a message for the next page.
func addFlash(c echo.Context, s *sessions.Session, kind views.FlashKind, msg string) error {
	s.AddFlash(string(kind) + "|" + msg)
	return s.Save(c.Request(), c.Response())
}

// takeFlashes returns the queued messages and forgets them.
func takeFlashes(c echo.Context, s *sessions.Session) []views.Flash {
	raw := s.Flashes()
	if len(raw) == 0 {
		return nil
	}
	_ = s.Save(c.Request(), c.Response())
	out := make([]views.Flash, 0, len(raw))
	for _, r := range raw {
		str, _ := r.(string)
		kind, msg, _ := strings.Cut(str, "|")
		out = append(out, views.Flash{Kind: views.FlashKind(kind), Message: msg})
	}
	return out
}

// toSignIn redirects to a sign-in route, remembering the page a GET was going to.
func toSignIn(c echo.Context, route string) error {
	target := c.Echo().Reverse(route)
	if c.Request().Method == http.MethodGet {
		target += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
	}
	return redirect(c, target)
}

func (h *Handler) startSession(c echo.Context, token string) error {
	return startToken(c, h.cookie(c), token)
}

func (h *Handler) endSession(c echo.Context) error { return endToken(c, h.cookie(c)) }

// flash queues a message for the next console page.
func (h *Handler) flash(c echo.Context, kind views.FlashKind, msg string) error {
	return addFlash(c, h.cookie(c), kind, msg)
}

func (h *Handler) popFlashes(c echo.Context) []views.Flash { return takeFlashes(c, h.cookie(c)) }

// toLogin sends a signed-out visitor to the sign-in page, remembering where they were going;
// on the MyVPN portal that is the portal's own sign-in page.
func (h *Handler) toLogin(c echo.Context) error {
	if isPortalPath(c) {
		return toSignIn(c, "portal.login")
	}
	return toSignIn(c, "login")
}

// safeNext accepts only a local path, so that ?next= cannot send anyone to another site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return ""
	}
	return next
}
