package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"onramp/models"
	"onramp/models/devices"
	"onramp/views"
	"onramp/views/components"
	portalpages "onramp/views/pages/portal"
)

// Devices on the user page (admins and helpdesk sign one out) and on the MyVPN portal (users
// sign out their own). Both sign-outs follow the confirm-then-do pattern of the Users actions:
// without confirm=1 the answer is the warning (a dialog for htmx, else a page).

const signOutWarning = "The VPN client on this device loses access at once: its credential stops working at its next check. " +
	"To use the device again, it must be registered again with a new registration code or the user's password."

// deviceRows turns devices into the rows of a devices card; signOut builds an active device's
// sign-out action.
func deviceRows(ds []models.Device, signOut func(id int64) string) []components.DeviceRow {
	rows := make([]components.DeviceRow, 0, len(ds))
	for _, d := range ds {
		r := components.DeviceRow{ID: d.ID, Name: d.Name, Platform: d.Platform, Via: "Password",
			Registered: d.RegisteredAt.UTC().Format(timeLayout), RegisteredISO: d.RegisteredAt.UTC().Format("2006-01-02T15:04:05Z"),
			LastSeen: d.LastSeenAt.UTC().Format(timeLayout), LastSeenISO: d.LastSeenAt.UTC().Format("2006-01-02T15:04:05Z"),
			Active: d.Active()}
		if d.RegisteredVia == models.ViaCode {
			r.Via = "Registration code"
		}
		if d.Active() {
			r.SignOutURL = signOut(d.ID)
		} else {
			r.SignedOut = d.RevokedAt.UTC().Format(timeLayout) + " UTC: " + d.RevokedReason
		}
		rows = append(rows, r)
	}
	return rows
}

// userDeviceRows lists a user's devices for the user page.
func (h *Handler) userDeviceRows(c echo.Context, userID int64) ([]components.DeviceRow, error) {
	ds, err := h.Devices.UserDevices(c.Request().Context(), current(c).Admin, userID)
	if err != nil {
		return nil, err
	}
	return deviceRows(ds, func(id int64) string { return c.Echo().Reverse("users.device.signout", userID, id) }), nil
}

// deviceParams reads a route's user id (when it has one) and device id; a malformed id is 404.
func deviceParams(c echo.Context) (userID, deviceID int64, err error) {
	if c.Param("id") != "" {
		if userID, err = strconv.ParseInt(c.Param("id"), 10, 64); err != nil {
			return 0, 0, models.ErrNotFound
		}
	}
	if deviceID, err = strconv.ParseInt(c.Param("device"), 10, 64); err != nil {
		return 0, 0, models.ErrNotFound
	}
	return userID, deviceID, nil
}

func signOutConfirm(d *models.Device, action, back, csrf string) components.ConfirmProps {
	return components.ConfirmProps{
		Title:        fmt.Sprintf("Sign out %q?", d.Name),
		Message:      signOutWarning,
		Action:       action,
		ConfirmLabel: "Sign out",
		CancelURL:    back,
		Danger:       true,
		CSRF:         csrf,
	}
}

// usersDeviceSignOut signs out a device of a user of the admin's account; another account's
// user or device is 404.
func (h *Handler) usersDeviceSignOut(c echo.Context) error {
	userID, deviceID, err := deviceParams(c)
	if err != nil {
		return err
	}
	cur := current(c)
	ctx := c.Request().Context()
	back := c.Echo().Reverse("users.show", userID)
	if c.FormValue("confirm") != "1" {
		d, err := h.Devices.Device(ctx, cur.Admin, userID, deviceID)
		if err != nil {
			return err
		}
		if !d.Active() {
			return h.flashRedirect(c, views.FlashInfo, fmt.Sprintf("%q is already signed out.", d.Name), back)
		}
		p := signOutConfirm(d, c.Echo().Reverse("users.device.signout", userID, deviceID), back, h.page(c, "", "").CSRF)
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

func (h *Handler) flashRedirect(c echo.Context, kind views.FlashKind, msg, target string) error {
	if err := h.flash(c, kind, msg); err != nil {
		return err
	}
	return redirect(c, target)
}

// portalDeviceRows lists the signed-in portal user's own devices.
func (h *Handler) portalDeviceRows(c echo.Context) ([]components.DeviceRow, error) {
	ds, err := h.Devices.OwnDevices(c.Request().Context(), currentPortal(c).User)
	if err != nil {
		return nil, err
	}
	return deviceRows(ds, func(id int64) string { return c.Echo().Reverse("portal.device.signout", id) }), nil
}

// portalDeviceSignOut signs out one of the portal user's own devices; anyone else's is 404.
func (h *Handler) portalDeviceSignOut(c echo.Context) error {
	_, deviceID, err := deviceParams(c)
	if err != nil {
		return err
	}
	u := currentPortal(c).User
	ctx := c.Request().Context()
	back := c.Echo().Reverse("portal.home")
	if c.FormValue("confirm") != "1" {
		d, err := h.Devices.OwnDevice(ctx, u, deviceID)
		if err != nil {
			return err
		}
		if !d.Active() {
			return h.portalRedirect(c, views.FlashInfo, fmt.Sprintf("%q is already signed out.", d.Name), back)
		}
		pp := h.portalPage(c, "Sign out a device")
		p := signOutConfirm(d, c.Echo().Reverse("portal.device.signout", deviceID), back, pp.CSRF)
		p.Message = "The VPN client on this device loses access at once. To use it again, register it again with your password or a new registration code."
		if isHTMX(c) {
			return render(c, http.StatusOK, components.ConfirmDialog(p))
		}
		return render(c, http.StatusOK, portalpages.ConfirmPage(pp, p))
	}
	d, err := h.Devices.SignOutOwn(ctx, u, c.RealIP(), deviceID)
	switch {
	case errors.Is(err, devices.ErrAlreadySignedOut):
		return h.portalRedirect(c, views.FlashInfo, fmt.Sprintf("%q is already signed out.", d.Name), back)
	case err != nil:
		return err
	}
	return h.portalRedirect(c, views.FlashSuccess, fmt.Sprintf("%q is signed out.", d.Name), back)
}
