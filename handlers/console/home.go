package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"onramp/handlers/web"
	"onramp/models"
	"onramp/views/pages/home"
)

// Home serves GET /.
func (h *Handler) Home(c echo.Context) error {
	cur := current(c)
	ov, err := h.Events.Overview(c.Request().Context(), cur.Admin, 10)
	if err != nil {
		return err
	}
	v := home.Overview{AccountName: cur.Account.Name, Admins: ov.ActiveAdmins}
	for _, e := range ov.Recent {
		v.Events = append(v.Events, eventRow(e))
	}
	return web.Render(c, http.StatusOK, home.Page(h.page(c, "Overview", "home"), v))
}

func eventRow(e models.Event) home.EventRow {
	actor := string(e.ActorType)
	if e.ActorLabel != "" {
		actor += " · " + e.ActorLabel
	}
	return home.EventRow{
		Time:    e.OccurredAt.UTC().Format(web.TimeLayout),
		ISOTime: e.OccurredAt.UTC().Format(web.ISOLayout),
		What:    string(e.Type) + " · " + e.SubType,
		Actor:   actor,
		Subject: e.Email,
		IP:      e.SourceIP,
	}
}
