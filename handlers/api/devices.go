package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"onramp/models/devices"
)

// Device is a VPN device of a user.
type Device struct {
	ID            int64      `json:"id"`
	UserID        int64      `json:"user_id"`
	Email         string     `json:"email"`
	Name          string     `json:"name"`
	Platform      string     `json:"platform"`
	RegisteredVia string     `json:"registered_via"`
	RegisteredAt  time.Time  `json:"registered_at"`
	LastSeenAt    time.Time  `json:"last_seen_at"`
	SignedOutAt   *time.Time `json:"signed_out_at,omitempty"`
}

// DevicePage is a page of the devices list.
type DevicePage struct {
	Devices    []Device `json:"devices"`
	NextCursor string   `json:"next_cursor,omitempty"`
}

// ListDevices serves GET /api/v1/devices: the console's Devices list (filters state,
// platform, via, q) with its keyset cursor.
func (h *Handler) ListDevices(c echo.Context) error {
	page, err := h.Devices.List(c.Request().Context(), actor(c), devices.ParseFilter(c.QueryParam), devices.After(c.QueryParam("cursor")))
	if err != nil {
		return err
	}
	out := DevicePage{Devices: make([]Device, 0, len(page.Devices)), NextCursor: page.Next}
	for _, l := range page.Devices {
		d := l.Device
		out.Devices = append(out.Devices, Device{ID: d.ID, UserID: d.SDPUserID, Email: l.User.Email, Name: d.Name, Platform: d.Platform,
			RegisteredVia: d.RegisteredVia, RegisteredAt: d.RegisteredAt.UTC(), LastSeenAt: d.LastSeenAt.UTC(), SignedOutAt: d.RevokedAt})
	}
	return c.JSON(http.StatusOK, out)
}

// SignOut is what a sign-out did.
type SignOut struct {
	SignedOut int `json:"signed_out"`
	Skipped   int `json:"skipped"`
}

// SignOutDevice serves POST /api/v1/devices/:id/sign-out: the device's credential ends (a
// Signed Out event); a device signed out already is skipped.
func (h *Handler) SignOutDevice(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	n, skipped, err := h.Devices.SignOutSelected(c.Request().Context(), actor(c), c.RealIP(), []int64{id})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, SignOut{SignedOut: n, Skipped: skipped})
}
