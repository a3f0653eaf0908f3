// Package web is what the audiences of the HTTP layer (console, portal, client API) share:
// rendering, the parts of the typed page context every page has, session cookies with their
// flashes, redirects that htmx understands, confirmations, and the mapping of service errors
// to statuses. It holds no route and knows no audience.
package web

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"onramp/handlers/middleware"
	"onramp/models"
	"onramp/views"
	"onramp/views/components"
)

// TimeLayout is how pages show a time (in UTC), and ISOLayout how <time datetime> carries it.
const (
	TimeLayout = "2006-01-02 15:04:05"
	ISOLayout  = "2006-01-02T15:04:05Z"
)

// Base is the part of the typed page context that does not depend on the audience: title, CSP
// nonce, CSRF token and URL building. The audience adds who is signed in and the flashes.
func Base(c echo.Context, title string) views.Page {
	return views.Page{Title: title, Nonce: middleware.Nonce(c.Request().Context()), CSRF: CSRFToken(c), Routes: c.Echo().Reverse}
}

// CSRFToken is the request's CSRF token, for a form built outside a page (a confirmation
// dialog, say). Reading it has no side effect: building a whole page for it would take the
// flashes meant for the next page.
func CSRFToken(c echo.Context) string {
	token, _ := c.Get(echomw.DefaultCSRFConfig.ContextKey).(string)
	return token
}

// IDURLs builds the URLs of the route name, whose one path parameter is an id, for many ids
// (the rows of a list): the route is looked up once, where echo's Reverse searches every route
// at each call.
func IDURLs(e *echo.Echo, name string) func(id int64) string {
	const mark = "\x00"
	before, after, ok := strings.Cut(e.Reverse(name, mark), mark)
	if !ok {
		panic("web: route " + name + " has no path parameter")
	}
	return func(id int64) string { return before + strconv.FormatInt(id, 10) + after }
}

// Render writes a component with a status; it renders into a buffer first so that a failing
// template gives a clean error page rather than half a page.
func Render(c echo.Context, status int, comp templ.Component) error {
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledBuffer {
			buf.Reset()
			renderBuffers.Put(buf)
		}
	}()
	if err := comp.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// renderBuffers keeps the buffers pages are rendered into between requests: growing a fresh one
// to a page's size (a Users page is about 60 KB) was a third of the bytes a page allocated
// (the Users page benchmark's -memprofile). The response copies the bytes before Render
// returns. A buffer grown past maxPooledBuffer (a very long page) is left to the collector.
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBuffer = 1 << 20

// IsHTMX reports whether htmx sent the request.
func IsHTMX(c echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

// Redirect answers a POST with 303 See Other, or tells htmx to navigate.
func Redirect(c echo.Context, url string) error {
	if IsHTMX(c) {
		c.Response().Header().Set("HX-Redirect", url)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, url)
}

// ToSignIn redirects to a sign-in route, remembering the page a GET was going to.
func ToSignIn(c echo.Context, route string) error {
	target := c.Echo().Reverse(route)
	if c.Request().Method == http.MethodGet {
		target += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
	}
	return Redirect(c, target)
}

// SafeNext returns next when it is a clean path of this site under prefix ("/" for any), else
// "": a sign-in's next cannot send anyone to another site or another audience's pages.
// Browsers drop tabs and line breaks from a URL and read a backslash as a slash ("/\t/evil.test"
// and "/\evil.test" are "//evil.test", another host), so next must hold none of those nor any
// other control character, space or dot segment, neither as it is nor percent-decoded, and
// url.Parse must find no scheme or host in it.
func SafeNext(next, prefix string) string {
	decoded, err := url.PathUnescape(next)
	if err != nil || !cleanPath(next) || !cleanPath(decoded) {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	if prefix != "/" && next != prefix && !strings.HasPrefix(next, prefix+"/") && !strings.HasPrefix(next, prefix+"?") {
		return ""
	}
	return next
}

// cleanPath reports whether s starts with one slash and holds no backslash, control character,
// space, invalid UTF-8 or dot segment ("." or ".." in its path).
func cleanPath(s string) bool {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") {
		return false
	}
	if strings.ContainsFunc(s, func(r rune) bool {
		return r == '\\' || r == utf8.RuneError || unicode.IsControl(r) || unicode.IsSpace(r)
	}) {
		return false
	}
	path, _, _ := strings.Cut(s, "?")
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// NoReferrer keeps a page's one-time token out of Referer headers.
func NoReferrer(c echo.Context) { c.Response().Header().Set("Referrer-Policy", "no-referrer") }

// ID reads a numeric path parameter; a malformed one is models.ErrNotFound (there is nothing
// at that address), never a 400 or a 500.
func ID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil {
		return 0, models.ErrNotFound
	}
	return id, nil
}

// Confirmed reports whether a confirm-then-do form came back confirmed (confirm=1): without
// it, the handler answers with the warning.
func Confirmed(c echo.Context) bool { return c.FormValue("confirm") == "1" }

// AskConfirm answers a confirm-then-do action that is not confirmed yet: its warning as a
// dialog for htmx, else as the page that page builds (only then, so that the flashes stay for
// the page that shows them).
func AskConfirm(c echo.Context, p components.ConfirmProps, page func(components.ConfirmProps) templ.Component) error {
	p.CSRF = CSRFToken(c)
	if IsHTMX(c) {
		return Render(c, http.StatusOK, components.ConfirmDialog(p))
	}
	return Render(c, http.StatusOK, page(p))
}

// BearerToken is the token of an "Authorization: Bearer <token>" header, or "".
func BearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get(echo.HeaderAuthorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
