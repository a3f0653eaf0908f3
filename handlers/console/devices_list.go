package console

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"onramp/handlers/forms"
	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/devices"
	"onramp/models/users"
	"onramp/views"
	"onramp/views/components"
	devicepages "onramp/views/pages/devices"
)

// The account's Devices page (Access > Devices): admins and helpdesk staff list every device and
// sign out one, or the selected ones, after a warning that names them.

// DevicesList serves GET /access/devices.
func (h *Handler) DevicesList(c echo.Context) error {
	f := devices.ParseFilter(c.QueryParam)
	cur := current(c)
	ctx := c.Request().Context()
	page, err := h.Devices.List(ctx, cur.Admin, f, devices.ParseKeyset(c.QueryParam))
	if err != nil {
		return err
	}
	platforms, err := h.Devices.Platforms(ctx, cur.Admin)
	if err != nil {
		return err
	}
	list := c.Echo().Reverse("devices.list")
	v := devicepages.List{Filter: devicepages.Filter{State: f.State, Platform: f.Platform, Via: f.Via, Q: f.Q, Active: f.Active()},
		Platforms: platforms, Hidden: deviceFilterFields(f)}
	ds := make([]models.Device, len(page.Devices))
	for i, l := range page.Devices {
		ds[i] = l.Device
	}
	user := web.IDURLs(c.Echo(), "users.show")
	for i, r := range web.DeviceRows(ds, web.IDURLs(c.Echo(), "devices.device.signout")) {
		u := page.Devices[i].User
		v.Rows = append(v.Rows, devicepages.Row{DeviceRow: r, UserName: u.FullName(), UserEmail: u.Email, UserURL: user(u.ID)})
	}
	if page.Prev != "" {
		v.Pagination.FirstURL = list + f.Query("", "")
		v.Pagination.PrevURL = list + f.Query("", page.Prev)
	}
	if page.Next != "" {
		v.Pagination.NextURL = list + f.Query(page.Next, "")
	}
	if n := len(v.Rows); n > 0 {
		v.Pagination.Summary = "Showing " + models.Plural(n, "device", "devices")
	}
	return web.Render(c, http.StatusOK, devicepages.Page(h.page(c, "Devices", "devices.list"), v))
}

// deviceFilterFields carries the list's filter through the sign-out forms, so that the list
// comes back as it was.
func deviceFilterFields(f devices.Filter) []components.Hidden {
	v := f.Values()
	out := make([]components.Hidden, 0, len(v))
	for _, k := range slices.Sorted(maps.Keys(v)) {
		out = append(out, components.Hidden{Name: k, Value: v.Get(k)})
	}
	return out
}

// DevicesSignOut serves POST /access/devices/sign-out: the selected devices (ids).
func (h *Handler) DevicesSignOut(c echo.Context) error {
	var f forms.DeviceSelection
	if err := c.Bind(&f); err != nil {
		return err
	}
	return h.signOutDevices(c, f.IDs, c.Echo().Reverse("devices.signout"))
}

// DeviceSignOut serves POST /access/devices/:device/sign-out: one device (a row's button).
func (h *Handler) DeviceSignOut(c echo.Context) error {
	id, err := web.ID(c, "device")
	if err != nil {
		return err
	}
	return h.signOutDevices(c, []int64{id}, c.Echo().Reverse("devices.device.signout", id))
}

// signOutDevices is confirm-then-do: without confirm=1 the warning names the devices that will
// be signed out; with it they are. An id of another account's device is 404.
func (h *Handler) signOutDevices(c echo.Context, ids []int64, action string) error {
	cur := current(c)
	ctx := c.Request().Context()
	filter := devices.ParseFilter(c.FormValue)
	back := c.Echo().Reverse("devices.list") + filter.Query("", "")
	if len(ids) == 0 {
		return h.flashRedirect(c, views.FlashError, "Select at least one device, then choose Sign out selected.", back)
	}
	nothingToDo := func(n int) error {
		return h.flashRedirect(c, views.FlashInfo, "Nothing to do: "+byCount(n, "that device is", "those devices are")+" already signed out.", back)
	}
	if web.Confirmed(c) {
		n, skipped, err := h.Devices.SignOutSelected(ctx, cur.Admin, c.RealIP(), ids)
		if err != nil {
			return err
		}
		if n == 0 {
			return nothingToDo(skipped)
		}
		msg := "Signed out " + models.Plural(n, "device", "devices") + byCount(n, ": its VPN credential no longer works.", ": their VPN credentials no longer work.")
		if skipped > 0 {
			msg += " " + models.Plural(skipped, "was", "were") + " signed out already."
		}
		return h.flashRedirect(c, views.FlashSuccess, msg, back)
	}
	ls, err := h.Devices.Selected(ctx, cur.Admin, ids)
	if err != nil {
		return err
	}
	var names []string
	fields := deviceFilterFields(filter)
	for _, l := range ls {
		if l.Device.Active() {
			names = append(names, fmt.Sprintf("%s (%s)", l.Device.Name, l.User.Email))
			fields = append(fields, components.Hidden{Name: "ids", Value: strconv.FormatInt(l.Device.ID, 10)})
		}
	}
	if len(names) == 0 {
		return nothingToDo(len(ls))
	}
	title := fmt.Sprintf("Sign out %s?", models.Plural(len(names), "device", "devices"))
	if len(names) == 1 {
		title = fmt.Sprintf("Sign out %q?", ls[0].Device.Name)
	}
	p := components.ConfirmProps{
		Title:        title,
		Message:      devicesSignOutWarning,
		Subjects:     names[:min(len(names), users.PreviewNames)],
		Action:       action,
		ConfirmLabel: "Sign out",
		CancelURL:    back,
		Danger:       true,
		Fields:       fields,
	}
	if more := len(names) - len(p.Subjects); more > 0 {
		p.More = fmt.Sprintf("and %d more", more)
	}
	return h.askConfirm(c, p, "devices.list", "Devices")
}

const devicesSignOutWarning = "Their VPN clients lose access at once: each credential stops working at its next check. " +
	"To use a device again, it must be registered again with a new registration code or the user's password."

// byCount picks the singular or the plural wording by n.
func byCount(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
