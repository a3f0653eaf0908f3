package portal

import (
	"errors"
	"fmt"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"onramp/handlers/web"
	"onramp/models/devices"
	"onramp/views"
	"onramp/views/components"
	portalpages "onramp/views/pages/portal"
)

// The portal user's own devices: listed on the home page, signed out after the warning.

const signOutWarning = "The VPN client on this device loses access at once. To use it again, register it again with your password or a new registration code."

// deviceRows lists the signed-in portal user's own devices.
func (h *Handler) deviceRows(c echo.Context) ([]components.DeviceRow, error) {
	ds, err := h.Devices.OwnDevices(c.Request().Context(), current(c).User)
	if err != nil {
		return nil, err
	}
	return web.DeviceRows(ds, web.IDURLs(c.Echo(), "portal.device.signout")), nil
}

// DeviceSignOut signs out one of the portal user's own devices; anyone else's is 404.
func (h *Handler) DeviceSignOut(c echo.Context) error {
	deviceID, err := web.ID(c, "device")
	if err != nil {
		return err
	}
	u := current(c).User
	ctx := c.Request().Context()
	back := c.Echo().Reverse("portal.home")
	if !web.Confirmed(c) {
		d, err := h.Devices.OwnDevice(ctx, u, deviceID)
		if err != nil {
			return err
		}
		if !d.Active() {
			return h.Cookie.FlashRedirect(c, views.FlashInfo, fmt.Sprintf("%q is already signed out.", d.Name), back)
		}
		p := web.SignOutConfirm(d, c.Echo().Reverse("portal.device.signout", deviceID), back, signOutWarning)
		return web.AskConfirm(c, p, func(p components.ConfirmProps) templ.Component {
			return portalpages.ConfirmPage(h.page(c, "Sign out a device"), p)
		})
	}
	d, err := h.Devices.SignOutOwn(ctx, u, c.RealIP(), deviceID)
	switch {
	case errors.Is(err, devices.ErrAlreadySignedOut):
		return h.Cookie.FlashRedirect(c, views.FlashInfo, fmt.Sprintf("%q is already signed out.", d.Name), back)
	case err != nil:
		return err
	}
	return h.Cookie.FlashRedirect(c, views.FlashSuccess, fmt.Sprintf("%q is signed out.", d.Name), back)
}
