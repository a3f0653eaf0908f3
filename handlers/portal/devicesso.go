package portal

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/devices"
	"onramp/models/sso"
	portalpages "onramp/views/pages/portal"
)

// The pages of a VPN client's single sign-on link (docs/sso.md#the-vpn-client). They live under
// /sso so that the browser sends its single sign-on cookie (path /sso), which binds the
// sign-in to this browser; they render in the portal's frame.

// DeviceSSOPage serves GET /sso/client/:link: which device asked, and the button to the
// identity provider. It changes nothing.
func (h *Handler) DeviceSSOPage(c echo.Context) error {
	web.NoReferrer(c)
	ctx := c.Request().Context()
	link, err := h.Devices.SSOLinkFor(ctx, c.Param("link"), web.SSOBindingValue(c))
	if err != nil {
		return h.deviceSSOGone(c, err)
	}
	provider, err := h.SSO.ProviderLabel(ctx, link.Account.Name)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if link.Elsewhere {
		status = http.StatusConflict
	}
	l := link.Login
	return web.Render(c, status, portalpages.DeviceSSOPage(h.page(c, "Register a device"), portalpages.DeviceSSO{
		Link: c.Param("link"), DeviceName: l.DeviceName, Platform: l.Platform, ClientIP: l.SourceIP,
		StartedAt: l.CreatedAt.UTC().Format("15:04 UTC, 2 Jan 2006"), Account: link.Account.Name, Provider: provider,
		Elsewhere: link.Elsewhere}))
}

// DeviceSSOContinue serves POST /sso/client/:link: this browser claims the sign-in and goes to
// the identity provider.
func (h *Handler) DeviceSSOContinue(c echo.Context) error {
	web.NoReferrer(c)
	if err := h.SSO.AllowBegin(c.RealIP()); err != nil {
		return err
	}
	ctx := c.Request().Context()
	binding := web.SSOBinding(c, h.Secure)
	link, err := h.Devices.ClaimSSO(ctx, c.Param("link"), binding, c.RealIP())
	if err != nil {
		return h.deviceSSOGone(c, err)
	}
	authURL, err := h.SSO.Begin(ctx, link.Account.Name, sso.PurposeClient, link.Payload(), binding)
	switch {
	case errors.Is(err, sso.ErrNotEnabled):
		return h.ssoProblem(c, http.StatusForbidden, "Single sign-on is off",
			"Single sign-on is not turned on for this account any more. Ask your administrator, or register the device with a code or your password.")
	case errors.Is(err, sso.ErrProviderUnreachable):
		return h.providerUnreachable(c)
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, authURL)
}

// deviceSSOGone renders why a link cannot be used, or passes other errors on.
func (h *Handler) deviceSSOGone(c echo.Context, err error) error {
	switch {
	case errors.Is(err, models.ErrGone):
		return h.ssoProblem(c, http.StatusGone, "This sign-in link no longer works",
			"It was used already, or more than 10 minutes passed since your device asked for it. Start the sign-in again on your device.")
	case errors.Is(err, devices.ErrSSOClaimed):
		return h.ssoProblem(c, http.StatusConflict, "This link was opened in another browser",
			"Only the browser that opened the link first can finish this sign-in. If that was not you, someone else may have your link: "+
				"start the sign-in again on your device for a new one.")
	}
	return err
}

// DeviceSSO is the end of a VPN client's sign-in at the callback (sso.Finisher for
// sso.PurposeClient): the same people as on MyVPN may sign in (sso.Service.PortalUser).
type DeviceSSO struct{ h *Handler }

// DeviceSSO returns the finisher of client sign-ins.
func (h *Handler) DeviceSSO() *DeviceSSO { return &DeviceSSO{h: h} }

// FinishSSO completes the client sign-in with the user the provider vouched for, or records
// the refusal for the client's next poll.
func (d *DeviceSSO) FinishSSO(c echo.Context, r *sso.Result) error {
	h, ctx := d.h, c.Request().Context()
	binding := web.SSOBindingValue(c)
	u, err := h.SSO.PortalUser(ctx, r)
	var ref *sso.Refusal
	if errors.As(err, &ref) {
		if err := h.Devices.RefuseSSO(ctx, r.Account.ID, r.Payload, binding, ref.Message, c.RealIP()); err != nil {
			return h.deviceSSOGone(c, err)
		}
		return d.SSORefused(c, ref)
	}
	if err != nil {
		return err
	}
	l, err := h.Devices.CompleteSSO(ctx, r.Account.ID, r.Payload, binding, u, c.RealIP())
	if err != nil {
		return h.deviceSSOGone(c, err)
	}
	return web.Render(c, http.StatusOK, portalpages.DeviceSSODone(h.page(c, "Device signed in"), l.DeviceName, u.Email))
}

// SSORefused renders a refused client sign-in in the portal's frame. The client keeps polling
// until the sign-in expires: the person may open the link again in the same browser and retry.
func (d *DeviceSSO) SSORefused(c echo.Context, ref *sso.Refusal) error { return d.h.SSORefused(c, ref) }
