package web

import (
	"fmt"

	"onramp/models"
	"onramp/views/components"
)

// DeviceRows turns devices into the rows of a devices card (the user page's, the portal's);
// signOut builds an active device's sign-out action.
func DeviceRows(ds []models.Device, signOut func(id int64) string) []components.DeviceRow {
	rows := make([]components.DeviceRow, 0, len(ds))
	for _, d := range ds {
		r := components.DeviceRow{ID: d.ID, Name: d.Name, Platform: d.Platform, Via: "Password",
			Registered: d.RegisteredAt.UTC().Format(TimeLayout), RegisteredISO: d.RegisteredAt.UTC().Format(ISOLayout),
			LastSeen: d.LastSeenAt.UTC().Format(TimeLayout), LastSeenISO: d.LastSeenAt.UTC().Format(ISOLayout),
			Active: d.Active()}
		if d.RegisteredVia == models.ViaCode {
			r.Via = "Registration code"
		}
		if d.Active() {
			r.SignOutURL = signOut(d.ID)
		} else {
			r.SignedOut = d.RevokedAt.UTC().Format(TimeLayout) + " UTC: " + d.RevokedReason
		}
		rows = append(rows, r)
	}
	return rows
}

// SignOutConfirm is the warning before a device is signed out; message says what the person
// signing it out needs to know.
func SignOutConfirm(d *models.Device, action, back, message string) components.ConfirmProps {
	return components.ConfirmProps{
		Title:        fmt.Sprintf("Sign out %q?", d.Name),
		Message:      message,
		Action:       action,
		ConfirmLabel: "Sign out",
		CancelURL:    back,
		Danger:       true,
	}
}
