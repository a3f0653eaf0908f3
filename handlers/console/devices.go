package console

import (
	"errors"
	"fmt"

	"github.com/labstack/echo/v4"

	"onramp/handlers/web"
	"onramp/models/devices"
	"onramp/views"
	"onramp/views/components"
)

// Devices on the user page: admins and helpdesk sign one out, after the warning.

const signOutWarning = "The VPN client on this device loses access at once: its credential stops working at its next check. " +
	"To use the device again, it must be registered again with a new registration code or the user's password."

// userDeviceRows lists a user's devices for the user page.
func (h *Handler) userDeviceRows(c echo.Context, userID int64) ([]components.DeviceRow, error) {
	ds, err := h.Devices.UserDevices(c.Request().Context(), current(c).Admin, userID)
	if err != nil {
		return nil, err
	}
	return web.DeviceRows(ds, func(id int64) string { return c.Echo().Reverse("users.device.signout", userID, id) }), nil
}

// UsersDeviceSignOut signs out a device of a user of the admin's account; another account's
// user or device is 404.
func (h *Handler) UsersDeviceSignOut(c echo.Context) error {
	userID, err := web.ID(c, "id")
	if err != nil {
		return err
	}
	deviceID, err := web.ID(c, "device")
	if err != nil {
		return err
	}
	cur := current(c)
	ctx := c.Request().Context()
	back := c.Echo().Reverse("users.show", userID)
	if !web.Confirmed(c) {
		d, err := h.Devices.Device(ctx, cur.Admin, userID, deviceID)
		if err != nil {
			return err
		}
		if !d.Active() {
			return h.flashRedirect(c, views.FlashInfo, fmt.Sprintf("%q is already signed out.", d.Name), back)
		}
		p := web.SignOutConfirm(d, c.Echo().Reverse("users.device.signout", userID, deviceID), back, signOutWarning)
		return h.askConfirm(c, p, "users.list", "Users")
	}
	d, err := h.Devices.SignOutByAdmin(ctx, cur.Admin, c.RealIP(), userID, deviceID)
	switch {
	case errors.Is(err, devices.ErrAlreadySignedOut):
		return h.flashRedirect(c, views.FlashInfo, fmt.Sprintf("%q is already signed out.", d.Name), back)
	case err != nil:
		return err
	}
	return h.flashRedirect(c, views.FlashSuccess, fmt.Sprintf("%q is signed out: its VPN credential no longer works.", d.Name), back)
}
