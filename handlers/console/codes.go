package console

import (
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/codes"
	userpages "onramp/views/pages/users"
)

// CodesCSV is "Download Registration Codes": the account's active codes as CSV, streamed (the
// service reads and flushes a batch at a time) with a Downloaded event.
func (h *Handler) CodesCSV(c echo.Context) error {
	cur := current(c)
	res := c.Response()
	hdr := res.Header()
	hdr.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set(echo.HeaderContentDisposition, `attachment; filename="`+h.Codes.ExportFilename(cur.Account.Name)+`"`)
	_, err := h.Codes.WriteCSV(c.Request().Context(), cur.Admin, c.RealIP(), res, func() error { res.Flush(); return nil })
	if err == nil {
		return nil
	}
	if !res.Committed {
		// Nothing was sent: an error page, not an attachment.
		hdr.Del(echo.HeaderContentDisposition)
		hdr.Del(echo.HeaderContentType)
		return err
	}
	// Half a file is out: the status cannot change any more. The client sees a truncated
	// download (the event says it was incomplete); the log has the reason.
	h.Log.WarnContext(c.Request().Context(), "registration codes CSV stopped", "route", c.Path(), "error", err.Error())
	return nil
}

// codeRows are a user's codes as the user page shows them: state and timeline, never the text.
func codeRows(cs []codes.UserCode, now time.Time) []userpages.CodeRow {
	out := make([]userpages.CodeRow, len(cs))
	for i := range cs {
		c := &cs[i]
		r := userpages.CodeRow{ID: c.ID, State: string(c.State(now)), Generated: c.CreatedAt.UTC().Format(web.TimeLayout),
			Expires: c.ExpiresAt.UTC().Format(web.TimeLayout)}
		by := "admin"
		if c.GeneratedBy == models.GeneratedByBulk {
			by = "bulk (new users)"
		}
		if c.AdminEmail != "" {
			by += " · " + c.AdminEmail
		}
		r.GeneratedBy = by
		switch {
		case c.UsedAt != nil:
			r.Ended = "Used " + c.UsedAt.UTC().Format(web.TimeLayout)
		case c.RevokedAt != nil:
			r.Ended = "Revoked " + c.RevokedAt.UTC().Format(web.TimeLayout)
		case r.State == string(models.CodeExpired):
			r.Ended = "Expired " + r.Expires
		}
		if c.DeviceID != nil {
			r.Device = "#" + strconv.FormatInt(*c.DeviceID, 10)
		}
		out[i] = r
	}
	return out
}
