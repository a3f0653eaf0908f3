package web_test

import (
	"testing"

	"github.com/labstack/echo/v4"

	"onramp/handlers/web"
)

func TestIDURLsBuildWhatReverseBuilds(t *testing.T) {
	e := echo.New()
	e.GET("/access/users/:id/codes", func(echo.Context) error { return nil }).Name = "codes"
	e.GET("/access/users", func(echo.Context) error { return nil }).Name = "list"
	codes := web.IDURLs(e, "codes")
	for _, id := range []int64{1, 42, 9007199254740993} {
		if got, want := codes(id), e.Reverse("codes", id); got != want {
			t.Errorf("IDURLs(%d) = %q, want %q", id, got, want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a route without a path parameter was accepted")
		}
	}()
	web.IDURLs(e, "list")
}
