package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"onramp/models"
	"onramp/views/pages/home"
)

const timeLayout = "2006-01-02 15:04:05"

func (h *Handler) home(c echo.Context) error {
	cur := current(c)
	ov, err := h.Events.Overview(c.Request().Context(), cur.Admin, 10)
	if err != nil {
		return err
	}
	v := home.Overview{AccountName: cur.Account.Name, Admins: ov.ActiveAdmins}
	for _, e := range ov.Recent {
		v.Events = append(v.Events, eventRow(e))
	}
	return render(c, http.StatusOK, home.Page(h.page(c, "Overview", "home"), v))
}

func eventRow(e models.Event) home.EventRow {
	actor := string(e.ActorType)
	if e.ActorLabel != "" {
		actor += " · " + e.ActorLabel
	}
	return home.EventRow{
		Time:    e.OccurredAt.UTC().Format(timeLayout),
		ISOTime: e.OccurredAt.UTC().Format("2006-01-02T15:04:05Z"),
		What:    string(e.Type) + " · " + e.SubType,
		Actor:   actor,
		Subject: e.Email,
		IP:      e.SourceIP,
	}
}
