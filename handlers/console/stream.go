package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"onramp/handlers/forms"
	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/events"
	"onramp/models/stream"
	"onramp/views"
	"onramp/views/components"
	streampages "onramp/views/pages/stream"
)

// StreamPage serves GET /settings/event-streaming.
func (h *Handler) StreamPage(c echo.Context) error {
	return h.renderStream(c, http.StatusOK, streampages.List{Form: streampages.Form{Kind: string(models.StreamWebhook)}})
}

func (h *Handler) renderStream(c echo.Context, status int, v streampages.List) error {
	ds, err := h.Stream.List(c.Request().Context(), current(c).Account.ID)
	if err != nil {
		return err
	}
	for _, d := range ds {
		v.Rows = append(v.Rows, streamRow(d))
	}
	for _, t := range events.Types {
		v.Types = append(v.Types, string(t))
	}
	return web.Render(c, status, streampages.Page(h.page(c, "Event streaming", "stream"), v))
}

func streamRow(d stream.Destination) streampages.Row {
	r := streampages.Row{ID: d.ID, Kind: string(d.Kind), Name: d.Name, URL: d.URL, Enabled: d.Enabled, Pending: d.Pending,
		LastError: d.LastError, Filters: "Every event"}
	if len(d.Filters) > 0 {
		r.Filters = strings.Join(d.Filters, ", ")
	}
	if d.LastDeliveredAt != nil {
		r.LastDelivered = d.LastDeliveredAt.UTC().Format(time.DateTime) + " UTC"
	}
	return r
}

// StreamCreate serves POST /settings/event-streaming: the page again, with the new webhook's
// signing secret shown once (never in a flash: that would put it in a cookie).
func (h *Handler) StreamCreate(c echo.Context) error {
	var f forms.StreamDestination
	if err := c.Bind(&f); err != nil {
		return err
	}
	cur := current(c)
	created, err := h.Stream.Create(c.Request().Context(), cur.Account.ID, models.AdminActor(cur.Admin, c.RealIP()),
		stream.Input{Kind: models.StreamKind(f.Kind), Name: f.Name, URL: f.URL, Filters: strings.Split(f.Events, "\n")})
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		return h.renderStream(c, http.StatusUnprocessableEntity, streampages.List{
			Form: streampages.Form{Kind: f.Kind, Name: f.Name, URL: f.URL, Events: f.Events, Errors: ve.Fields}})
	case err != nil:
		return err
	}
	if created.Secret == "" {
		return h.flashRedirect(c, views.FlashSuccess, created.Destination.Name+" is added: events are sent to it from now on.", c.Echo().Reverse("stream"))
	}
	return h.renderStream(c, http.StatusOK, streampages.List{Form: streampages.Form{Kind: string(models.StreamWebhook)},
		Secret: created.Secret, SecretName: created.Destination.Name})
}

// StreamShow serves GET /settings/event-streaming/:id: the destination and its delivery log.
func (h *Handler) StreamShow(c echo.Context) error {
	id, err := web.ID(c, "id")
	if err != nil {
		return err
	}
	d, attempts, err := h.Stream.Get(c.Request().Context(), current(c).Account.ID, id)
	if err != nil {
		return err
	}
	v := streampages.Detail{Row: streamRow(d)}
	for _, a := range attempts {
		line := streampages.Attempt{At: a.AttemptedAt.UTC().Format(time.DateTime) + " UTC", Event: "test", OK: a.OK, Excerpt: a.Excerpt}
		if a.EventID != 0 {
			line.Event = strconv.FormatInt(a.EventID, 10)
		}
		if a.Status != 0 {
			line.Status = strconv.Itoa(a.Status)
		}
		v.Attempts = append(v.Attempts, line)
	}
	return web.Render(c, http.StatusOK, streampages.Show(h.page(c, d.Name, "stream"), v))
}

// StreamEnable serves POST /settings/event-streaming/:id/enable.
func (h *Handler) StreamEnable(c echo.Context) error { return h.streamSetEnabled(c, true) }

// StreamDisable serves POST /settings/event-streaming/:id/disable.
func (h *Handler) StreamDisable(c echo.Context) error { return h.streamSetEnabled(c, false) }

func (h *Handler) streamSetEnabled(c echo.Context, on bool) error {
	id, err := web.ID(c, "id")
	if err != nil {
		return err
	}
	cur := current(c)
	if err := h.Stream.SetEnabled(c.Request().Context(), cur.Account.ID, models.AdminActor(cur.Admin, c.RealIP()), id, on); err != nil {
		return err
	}
	msg := "The destination is off: events that happen meanwhile are not sent to it."
	if on {
		msg = "The destination is on: events are sent to it again."
	}
	return h.flashRedirect(c, views.FlashSuccess, msg, c.Echo().Reverse("stream.show", id))
}

// StreamDelete serves POST /settings/event-streaming/:id/delete, behind a confirmation.
func (h *Handler) StreamDelete(c echo.Context) error {
	id, err := web.ID(c, "id")
	if err != nil {
		return err
	}
	cur := current(c)
	ctx := c.Request().Context()
	d, _, err := h.Stream.Get(ctx, cur.Account.ID, id)
	if err != nil {
		return err
	}
	if !web.Confirmed(c) {
		msg := "No event is sent to " + d.URL + " any more."
		if d.Pending > 0 {
			msg += " The " + strconv.FormatInt(d.Pending, 10) + " events still waiting to be sent are dropped."
		}
		return h.askConfirm(c, components.ConfirmProps{Title: "Delete " + d.Name + "?", Message: msg, ConfirmLabel: "Delete", Danger: true,
			Action: c.Request().URL.Path, CancelURL: c.Echo().Reverse("stream.show", id)}, "stream", "Event streaming")
	}
	if err := h.Stream.Delete(ctx, cur.Account.ID, models.AdminActor(cur.Admin, c.RealIP()), id); err != nil {
		return err
	}
	return h.flashRedirect(c, views.FlashSuccess, d.Name+" is deleted.", c.Echo().Reverse("stream"))
}

// StreamTest serves POST /settings/event-streaming/:id/test: a test event sent now, and how it
// went.
func (h *Handler) StreamTest(c echo.Context) error {
	id, err := web.ID(c, "id")
	if err != nil {
		return err
	}
	cur := current(c)
	a, err := h.Stream.SendTest(c.Request().Context(), cur.Account.ID, cur.Account.Name, models.AdminActor(cur.Admin, c.RealIP()), id)
	if err != nil {
		return err
	}
	target := c.Echo().Reverse("stream.show", id)
	if !a.OK {
		msg := "The test event was not delivered"
		if a.Status != 0 {
			msg += " (HTTP " + strconv.Itoa(a.Status) + ")"
		}
		return h.flashRedirect(c, views.FlashError, msg+": "+a.Excerpt, target)
	}
	return h.flashRedirect(c, views.FlashSuccess, "The test event was delivered.", target)
}
