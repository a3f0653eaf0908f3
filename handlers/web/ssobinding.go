package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"onramp/models/sso"
)

// ssoBindingCookie holds the random value that binds a single sign-on attempt to the browser
// that began it (models/sso stores only its hash). Its path is /sso: only the callback reads it.
const ssoBindingCookie = "onramp_sso"

// SSOBinding returns this browser's binding value for sso.Service.Begin, setting the cookie
// when the browser has none. One value serves every attempt the browser begins (two tabs).
// SameSite=Lax: the provider's redirect back is a top-level GET, which carries it.
func SSOBinding(c echo.Context, secure bool) string {
	v := SSOBindingValue(c)
	if v == "" {
		v = sso.NewBinding()
	}
	c.SetCookie(&http.Cookie{Name: ssoBindingCookie, Value: v, Path: "/sso", MaxAge: int((sso.LoginTTL + 5*time.Minute) / time.Second),
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	return v
}

// SSOBindingValue reads the browser's binding value ("" when it has none).
func SSOBindingValue(c echo.Context) string {
	k, err := c.Cookie(ssoBindingCookie)
	if err != nil || len(k.Value) > 100 {
		return ""
	}
	return k.Value
}
