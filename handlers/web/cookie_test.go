package web_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"onramp/handlers/web"
	"onramp/models/secret"
)

// A session cookie made under the previous secret is still read during a rotation (sessions
// survive it), and not by the new secret alone.
func TestCookieSurvivesRotation(t *testing.T) {
	t.Parallel()
	oldSecret := []byte("the-old-cookie-secret-the-old-cookie")
	cur := secret.NewKeys([]byte("the-new-cookie-secret-the-new-cookie"))
	cookie := func(keys *secret.Keys) *web.Cookie {
		return web.NewCookie("onramp_session", "/", keys, "cookie", time.Hour, false, slog.New(slog.DiscardHandler))
	}
	e := echo.New()
	rec := httptest.NewRecorder()
	if err := cookie(secret.NewKeys(oldSecret)).Start(e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec), "token-1"); err != nil {
		t.Fatal(err)
	}
	read := func(k *web.Cookie) string {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		for _, c := range rec.Result().Cookies() {
			req.AddCookie(c)
		}
		return k.Token(e.NewContext(req, httptest.NewRecorder()))
	}
	if got := read(cookie(cur.WithPrevious(oldSecret))); got != "token-1" {
		t.Fatalf("with the previous secret: %q", got)
	}
	if got := read(cookie(cur)); got != "" {
		t.Fatalf("the new secret alone read %q", got)
	}
}
