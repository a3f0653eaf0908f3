package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"onramp/models"
	"onramp/models/events"
)

// Event is an event of the account's audit trail.
type Event struct {
	ID         int64             `json:"id"`
	OccurredAt time.Time         `json:"occurred_at"`
	Type       string            `json:"type"`
	SubType    string            `json:"subtype"`
	ActorType  string            `json:"actor_type"`
	Actor      string            `json:"actor,omitempty"`
	Email      string            `json:"email,omitempty"`
	UserID     *int64            `json:"user_id,omitempty"`
	DeviceID   *int64            `json:"device_id,omitempty"`
	SourceIP   string            `json:"source_ip,omitempty"`
	Details    map[string]string `json:"details,omitempty"`
}

func eventOf(e *models.Event) Event {
	out := Event{ID: e.ID, OccurredAt: e.OccurredAt.UTC(), Type: string(e.Type), SubType: e.SubType, ActorType: string(e.ActorType),
		Actor: e.ActorLabel, Email: e.Email, UserID: e.SDPUserID, DeviceID: e.DeviceID, SourceIP: e.SourceIP}
	if e.Details != "" {
		_ = json.Unmarshal([]byte(e.Details), &out.Details) // details are written as a JSON object (models.NewEvent)
	}
	return out
}

// EventPage is a page of the events search.
type EventPage struct {
	Events     []Event `json:"events"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// criteria reads the console's Event Discovery filter from the query string.
func criteria(c echo.Context) events.Criteria {
	q := c.QueryParam
	return events.Criteria{Range: q("range"), From: q("from"), To: q("to"), Type: q("type"), SubType: q("subtype"), User: q("user"),
		ActorType: q("actor_type"), Actor: q("actor"), Q: q("q")}
}

// ListEvents serves GET /api/v1/events: the console's search (same criteria), newest first,
// a page at a time.
func (h *Handler) ListEvents(c echo.Context) error {
	res, err := h.Events.Search(c.Request().Context(), actor(c), criteria(c), c.QueryParam("cursor"))
	if err != nil {
		return err
	}
	out := EventPage{Events: make([]Event, 0, len(res.Events)), NextCursor: res.Next}
	for i := range res.Events {
		out.Events = append(out.Events, eventOf(&res.Events[i]))
	}
	return c.JSON(http.StatusOK, out)
}

// ContentTypeNDJSON is the media type of the events export: one JSON event per line.
const ContentTypeNDJSON = "application/x-ndjson"

// ExportEvents serves GET /api/v1/events.ndjson: every event matching the criteria, one JSON
// object per line, streamed (an Events Exported event records it, as the console's CSV).
func (h *Handler) ExportEvents(c echo.Context) error {
	res := c.Response()
	enc := json.NewEncoder(res)
	return h.Events.Export(c.Request().Context(), actor(c), c.RealIP(), criteria(c), "ndjson", func() error {
		res.Header().Set(echo.HeaderContentType, ContentTypeNDJSON)
		res.WriteHeader(http.StatusOK)
		return nil
	}, func(batch []models.Event) error {
		for i := range batch {
			if err := enc.Encode(eventOf(&batch[i])); err != nil {
				return err
			}
		}
		res.Flush()
		return nil
	})
}
