package web

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"onramp/models/secret"
	"onramp/models/text"
	"onramp/views"
)

// tokenKey is where a cookie keeps its session token.
const tokenKey = "sid"

// Cookie is an audience's session cookie: it carries only a session token (who is signed in
// lives in the database) and the flashes for the next page. The console and the portal each
// have their own, with their own keys and path, so that sessions never cross over.
type Cookie struct {
	store *sessions.CookieStore
	name  string
	log   *slog.Logger
}

// NewCookie builds a cookie named name for the paths under path, signed and encrypted with keys
// derived for purpose (purpose+"-hash", purpose+"-block"), living at most maxAge; secure marks
// it Secure (HTTPS). log records the flashes that could not be kept. During a rotation of
// ONRAMP_SECRET a cookie made under the previous secret is still read (and rewritten under the
// current one when next saved): sessions survive the rotation.
func NewCookie(name, path string, keys *secret.Keys, purpose string, maxAge time.Duration, secure bool, log *slog.Logger) *Cookie {
	hash, block := keys.DeriveAll(purpose+"-hash"), keys.DeriveAll(purpose+"-block")
	var pairs [][]byte
	for i := range hash {
		pairs = append(pairs, hash[i], block[i])
	}
	cs := sessions.NewCookieStore(pairs...)
	cs.Options = &sessions.Options{Path: path, MaxAge: int(maxAge / time.Second), HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteLaxMode}
	return &Cookie{store: cs, name: name, log: log}
}

func (k *Cookie) get(c echo.Context) *sessions.Session {
	// A cookie that fails to decode (old keys, tampering, another audience's cookie) gives a
	// fresh, empty one.
	s, _ := k.store.Get(c.Request(), k.name)
	return s
}

// Token is the session token the cookie carries, or "".
func (k *Cookie) Token(c echo.Context) string {
	t, _ := k.get(c).Values[tokenKey].(string)
	return t
}

// Start puts a new session token in a fresh cookie: the old cookie's values are dropped,
// flashes included, and the CSRF token is replaced, so that nothing carries across a sign-in.
func (k *Cookie) Start(c echo.Context, token string) error {
	renewCSRF(c, k.store.Options.Secure)
	s := k.get(c)
	s.Values = map[any]any{tokenKey: token}
	return s.Save(c.Request(), c.Response())
}

// End removes the session token, keeping the flashes, and replaces the CSRF token.
func (k *Cookie) End(c echo.Context) error {
	renewCSRF(c, k.store.Options.Secure)
	s := k.get(c)
	delete(s.Values, tokenKey)
	return s.Save(c.Request(), c.Response())
}

// The flashes a cookie keeps: the newest few, each cut short, so that actions whose redirect is
// never followed cannot grow the cookie past the 4 KB browsers (and securecookie) accept, even
// with every character 4 bytes long.
const (
	maxFlashes    = 3
	maxFlashBytes = 600 // 150 characters of 4 bytes, more of fewer
)

// Flash queues a message for the next page, dropping the oldest beyond maxFlashes.
func (k *Cookie) Flash(c echo.Context, kind views.FlashKind, msg string) error {
	s := k.get(c)
	queued := s.Flashes()
	for _, f := range queued[max(0, len(queued)-(maxFlashes-1)):] {
		s.AddFlash(f)
	}
	msg = text.Shorten(msg, maxFlashBytes)
	s.AddFlash(string(kind) + "|" + msg)
	return s.Save(c.Request(), c.Response())
}

// Flashes returns the queued messages and forgets them: only a page that shows them calls it.
func (k *Cookie) Flashes(c echo.Context) []views.Flash {
	s := k.get(c)
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

// FlashRedirect queues a message and answers with a redirect (303, or HX-Redirect for htmx):
// the end of most actions, once their change is committed. So the answer is the redirect
// whatever becomes of the message: one that cannot be kept (the cookie is full, say) is logged
// and left out, never turned into an error page for a change that was made.
func (k *Cookie) FlashRedirect(c echo.Context, kind views.FlashKind, msg, target string) error {
	if err := k.Flash(c, kind, msg); err != nil {
		k.log.Warn("a flash message was not kept", "request_id", c.Response().Header().Get(echo.HeaderXRequestID), "error", err)
	}
	return Redirect(c, target)
}
