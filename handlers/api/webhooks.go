package api

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"onramp/models"
	"onramp/models/stream"
)

// Webhook is a webhook destination of event streaming (docs/streaming.md): never its secret.
type Webhook struct {
	ID              int64      `json:"id"`
	Name            string     `json:"name"`
	URL             string     `json:"url"`
	Events          []string   `json:"events"`
	Enabled         bool       `json:"enabled"`
	Pending         int64      `json:"pending"`
	LastError       string     `json:"last_error,omitempty"`
	LastDeliveredAt *time.Time `json:"last_delivered_at,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
}

func webhookOf(d stream.Destination) Webhook {
	w := Webhook{ID: d.ID, Name: d.Name, URL: d.URL, Events: d.Filters, Enabled: d.Enabled, Pending: d.Pending, LastError: d.LastError,
		LastDeliveredAt: d.LastDeliveredAt, CreatedAt: d.CreatedAt.UTC()}
	if w.Events == nil {
		w.Events = []string{}
	}
	return w
}

// WebhookInput is a new webhook: its URL, the events it wants ("Type" or "Type / Sub-type";
// none or empty means every event) and an optional name (the URL's host by default).
type WebhookInput struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
	Name   string   `json:"name"`
}

// CreatedWebhook is a new webhook with its signing secret, shown once.
type CreatedWebhook struct {
	Webhook
	Secret string `json:"secret"`
}

// ListWebhooks serves GET /api/v1/webhooks: the account's webhook destinations.
func (h *Handler) ListWebhooks(c echo.Context) error {
	ds, err := h.Stream.List(c.Request().Context(), actor(c).AccountID)
	if err != nil {
		return err
	}
	out := struct {
		Webhooks []Webhook `json:"webhooks"`
	}{Webhooks: []Webhook{}}
	for _, d := range ds {
		if d.Kind == models.StreamWebhook {
			out.Webhooks = append(out.Webhooks, webhookOf(d))
		}
	}
	return c.JSON(http.StatusOK, out)
}

// CreateWebhook serves POST /api/v1/webhooks: the console's Add destination for a webhook,
// with its rules and event; the answer holds the signing secret, once.
func (h *Handler) CreateWebhook(c echo.Context) error {
	var in WebhookInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Name == "" {
		if u, err := url.Parse(in.URL); err == nil {
			in.Name = u.Hostname()
		}
	}
	a := actor(c)
	created, err := h.Stream.Create(c.Request().Context(), a.AccountID, models.AdminActor(a, c.RealIP()),
		stream.Input{Kind: models.StreamWebhook, Name: in.Name, URL: in.URL, Filters: in.Events})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, CreatedWebhook{Webhook: webhookOf(created.Destination), Secret: created.Secret})
}
