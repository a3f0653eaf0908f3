package console

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"onramp/handlers/forms"
	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/events"
	eventpages "onramp/views/pages/events"
)

func eventCriteria(f forms.EventFilter) events.Criteria {
	return events.Criteria{Range: f.Range, From: f.From, To: f.To, Type: f.Type, SubType: f.SubType, User: f.User,
		ActorType: f.ActorType, Actor: f.Actor, Q: f.Q}
}

// eventsQuery is the query string of a filter (and an optional cursor): the default range and
// from / to outside a custom range are left out.
func eventsQuery(c events.Criteria, after string) string {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	if c.Range != string(events.DefaultRange) {
		set("range", c.Range)
	}
	if c.Custom() {
		set("from", c.From)
		set("to", c.To)
	}
	set("type", c.Type)
	set("subtype", c.SubType)
	set("user", c.User)
	set("actor_type", c.ActorType)
	set("actor", c.Actor)
	set("q", c.Q)
	set("after", after)
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// EventsList serves GET /events.
func (h *Handler) EventsList(c echo.Context) error {
	var f forms.EventFilter
	if err := c.Bind(&f); err != nil {
		return err
	}
	res, err := h.Events.Search(c.Request().Context(), current(c).Admin, eventCriteria(f), f.After)
	status := http.StatusOK
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		status = http.StatusUnprocessableEntity
	case err != nil:
		return err
	}
	return web.Render(c, status, eventpages.ListPage(h.page(c, "Events", "events"), eventsListView(c.Echo(), res, ve, f.After != "")))
}

// eventsListView turns a search result into the page's model: menus, drill-down links that add a
// kind to the filter, rows, and pagination links that keep the filter.
func eventsListView(e *echo.Echo, res events.Result, ve *models.ValidationError, paged bool) eventpages.List {
	list := e.Reverse("events")
	cr := res.Criteria
	v := eventpages.List{
		Filter: eventpages.Filter{Range: cr.Range, From: cr.From, To: cr.To, Type: cr.Type, SubType: cr.SubType, User: cr.User,
			ActorType: cr.ActorType, Actor: cr.Actor, Q: cr.Q},
		DatesIgnored: res.DatesIgnored,
		Narrowed:     cr.Narrowed(),
		CSVURL:       e.Reverse("events.csv") + eventsQuery(cr, ""),
		CountCap:     thousands(events.CountCap),
		Window:       windowText(res.Window),
	}
	if ve != nil {
		v.Errors = ve.Fields
	}
	for _, r := range events.Ranges {
		v.Ranges = append(v.Ranges, eventpages.Option{Value: string(r), Label: r.Label()})
	}
	for _, t := range res.Types {
		v.Types = append(v.Types, eventpages.Option{Value: string(t), Label: string(t)})
	}
	for _, s := range res.SubTypes {
		v.SubTypes = append(v.SubTypes, eventpages.Option{Value: s, Label: s})
	}
	for _, a := range events.ActorTypes {
		v.ActorTypes = append(v.ActorTypes, eventpages.Option{Value: string(a), Label: strings.ToUpper(string(a[:1])) + string(a[1:])})
	}
	for _, k := range res.Counts {
		narrowed := cr
		narrowed.Type, narrowed.SubType = string(k.Type), k.SubType
		v.Counts = append(v.Counts, eventpages.Count{Label: string(k.Type) + " · " + k.SubType, N: countText(k.N, k.AtLeast),
			URL: list + eventsQuery(narrowed, ""), Active: cr.Type == string(k.Type) && cr.SubType == k.SubType})
	}
	if res.Total > 0 {
		v.Total = countText(res.Total, res.TotalAtLeast)
	}
	v.Sampled = res.Sampled
	show := web.IDURLs(e, "events.show")
	for _, ev := range res.Events {
		r := eventRow(ev)
		v.Rows = append(v.Rows, eventpages.Row{URL: show(ev.ID), Time: r.Time, ISOTime: r.ISOTime, What: r.What,
			Actor: r.Actor, Email: ev.Email, IP: ev.SourceIP, Details: events.DetailsText(ev.Details)})
	}
	if paged {
		v.Pagination.FirstURL = list + eventsQuery(cr, "")
	}
	if res.Next != "" {
		v.Pagination.NextURL = list + eventsQuery(cr, res.Next)
	}
	if n := len(v.Rows); n > 0 {
		v.Pagination.Summary = "Showing " + models.Plural(n, "event", "events")
	}
	return v
}

func windowText(w events.Window) string {
	const layout = "2006-01-02 15:04"
	switch {
	case w.From.IsZero() && w.To.IsZero():
		return "All events of the account."
	case w.To.IsZero():
		return "Events since " + w.From.UTC().Format(layout) + " UTC."
	case w.From.IsZero():
		return "Events before " + w.To.UTC().Format(layout) + " UTC."
	}
	return "Events from " + w.From.UTC().Format(layout) + " to before " + w.To.UTC().Format(layout) + " UTC."
}

// countText shows a count with thousands separators, "+" when it is a lower bound.
func countText(n int64, atLeast bool) string {
	s := thousands(n)
	if atLeast {
		s += "+"
	}
	return s
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// EventsShow serves GET /events/:id.
func (h *Handler) EventsShow(c echo.Context) error {
	id, err := web.ID(c, "id")
	if err != nil {
		return err
	}
	d, err := h.Events.Get(c.Request().Context(), current(c).Admin, id)
	if err != nil {
		return err
	}
	e := d.Event
	r := eventRow(e)
	v := eventpages.Detail{What: r.What, Time: r.Time, Type: string(e.Type), SubType: e.SubType, ActorType: string(e.ActorType),
		Actor: e.ActorLabel, ActorID: optID(e.ActorID), Email: e.Email, UserID: optID(e.SDPUserID), DeviceID: optID(e.DeviceID),
		SourceIP: e.SourceIP, ID: strconv.FormatInt(e.ID, 10), RawDetails: d.RawDetails, BackURL: c.Echo().Reverse("events")}
	if e.SDPUserID != nil {
		v.UserEvents = v.BackURL + eventsQuery(events.Criteria{Range: string(events.RangeAll), User: v.UserID}, "")
		if d.UserExists {
			v.UserURL = c.Echo().Reverse("users.show", *e.SDPUserID)
		}
	}
	for _, f := range d.Details {
		v.Details = append(v.Details, eventpages.Pair{Key: f.Key, Value: f.Value})
	}
	return web.Render(c, http.StatusOK, eventpages.DetailPage(h.page(c, r.What, "events"), v))
}

func optID(id *int64) string {
	if id == nil {
		return ""
	}
	return strconv.FormatInt(*id, 10)
}

// EventsCSV streams the current filter as CSV. Mistakes in the filter are found before the
// first byte and answered with the error page.
func (h *Handler) EventsCSV(c echo.Context) error {
	var f forms.EventFilter
	if err := c.Bind(&f); err != nil {
		return err
	}
	cur := current(c)
	name := fmt.Sprintf("events-%s-%s.csv", cur.Account.Name, time.Now().UTC().Format("2006-01-02"))
	return h.Events.ExportCSV(c.Request().Context(), cur.Admin, c.RealIP(), eventCriteria(f), func() io.Writer {
		hdr := c.Response().Header()
		hdr.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		hdr.Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", name))
		hdr.Set("Cache-Control", "no-store")
		c.Response().WriteHeader(http.StatusOK)
		return c.Response()
	})
}
