package handlers

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"onramp/models"
	outboxpages "onramp/views/pages/outbox"
)

func (h *Handler) outboxList(c echo.Context) error {
	after, _ := strconv.ParseInt(c.QueryParam("after"), 10, 64)
	page, err := h.Outbox.List(c.Request().Context(), current(c).Admin, after)
	if err != nil {
		return err
	}
	v := outboxpages.List{Delivering: h.Outbox.Delivering()}
	for _, m := range page.Messages {
		v.Rows = append(v.Rows, outboxpages.Row{
			URL: c.Echo().Reverse("outbox.message", m.ID), To: m.ToEmail, Kind: m.Kind.Label(), Subject: m.Subject,
			Status: string(m.Status), Label: m.Status.Label(), Attempts: m.Attempts, LastError: m.LastError,
			Created: m.CreatedAt.UTC().Format(timeLayout),
		})
	}
	list := c.Echo().Reverse("outbox")
	if after > 0 {
		v.Pagination.FirstURL = list
	}
	if page.NextAfter > 0 {
		v.Pagination.NextURL = fmt.Sprintf("%s?after=%d", list, page.NextAfter)
	}
	return render(c, http.StatusOK, outboxpages.Page(h.page(c, "Outbox", "outbox"), v))
}

func (h *Handler) outboxMessage(c echo.Context) error {
	m, err := h.outboxGet(c)
	if err != nil {
		return err
	}
	v := outboxpages.Detail{
		From: h.Outbox.From(), To: m.ToEmail, Subject: m.Subject, MessageID: m.MessageID, Kind: m.Kind.Label(),
		Status: string(m.Status), Label: m.Status.Label(), Attempts: m.Attempts, LastError: m.LastError,
		Created: m.CreatedAt.UTC().Format(timeLayout) + " UTC", Text: m.TextBody, Links: links(m.TextBody),
		HTMLURL: c.Echo().Reverse("outbox.html", m.ID),
	}
	if m.SentAt != nil {
		v.Sent = m.SentAt.UTC().Format(timeLayout) + " UTC"
	}
	// The page shows one-time links: they must not leak to the sites it links to.
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	return render(c, http.StatusOK, outboxpages.Message(h.page(c, m.Subject, "outbox"), v))
}

// outboxHTML serves a message's HTML part as it will be mailed. As far as the console is
// concerned it is foreign markup: the CSP sandbox gives it an opaque origin, no scripts, no
// forms and nothing loaded from anywhere (inline styles only, as in mail clients).
func (h *Handler) outboxHTML(c echo.Context) error {
	m, err := h.outboxGet(c)
	if err != nil {
		return err
	}
	hdr := c.Response().Header()
	hdr.Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	hdr.Set("Referrer-Policy", "no-referrer")
	return c.HTMLBlob(http.StatusOK, []byte(m.HTMLBody))
}

func (h *Handler) outboxGet(c echo.Context) (*models.MailMessage, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return nil, models.ErrNotFound
	}
	return h.Outbox.Get(c.Request().Context(), current(c).Admin, id)
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"']+`)

// links finds the web links of a text part, so that an admin can open an activation link when
// no SMTP server is configured.
func links(text string) []string {
	var out []string
	for _, l := range linkRE.FindAllString(text, -1) {
		out = append(out, strings.TrimRight(l, ".,;:!?)"))
	}
	return out
}
