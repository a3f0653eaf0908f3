package portal

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/codes"
	portalpages "onramp/views/pages/portal"
)

// Enroll serves GET /enroll?server=...&account=...&code=...: the https twin of an enrollment
// link, for a phone without the VPN client. It shows the code, the account and this server's
// address (never the server named in the link: a page of ours only vouches for us). The code
// travels in the URL, so the page is never stored nor passed on as a referrer; the request log
// names the route, never the query.
func (h *Handler) Enroll(c echo.Context) error {
	web.NoReferrer(c)
	c.Response().Header().Set("Cache-Control", "no-store")
	v := portalpages.DeviceEnroll{Server: h.BaseURL, Account: c.QueryParam("account")}
	code, err := codes.Normalize(c.QueryParam("code"))
	if err != nil || models.ValidateAccountName(v.Account) != "" {
		v.Account = ""
		return web.Render(c, http.StatusBadRequest, portalpages.DeviceEnrollPage(h.page(c, "Register a device"), v))
	}
	v.Code = codes.Format(code)
	v.Link = codes.EnrollLink(h.BaseURL, v.Account, v.Code)
	if v.QR, err = web.QRDataURL(v.Link, 200); err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, portalpages.DeviceEnrollPage(h.page(c, "Register a device"), v))
}
