package console

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"onramp/handlers/web"
	"onramp/models"
	"onramp/views"
	"onramp/views/components"
	outboxpages "onramp/views/pages/outbox"
)

// OutboxList serves GET /outbox.
func (h *Handler) OutboxList(c echo.Context) error {
	after, _ := strconv.ParseInt(c.QueryParam("after"), 10, 64)
	page, err := h.Outbox.List(c.Request().Context(), current(c).Admin, after)
	if err != nil {
		return err
	}
	v := outboxpages.List{Delivering: h.Outbox.Delivering()}
	if v.Delivering && after == 0 {
		if v.Held, v.Sendable, err = h.Outbox.Held(c.Request().Context(), current(c).Admin); err != nil {
			return err
		}
	}
	message := web.IDURLs(c.Echo(), "outbox.message")
	for _, m := range page.Messages {
		v.Rows = append(v.Rows, outboxpages.Row{
			URL: message(m.ID), To: m.ToEmail, Kind: m.Kind.Label(), Subject: m.Subject,
			Status: string(m.Status), Label: m.Status.Label(), Attempts: m.Attempts, LastError: m.LastError,
			Created: m.CreatedAt.UTC().Format(web.TimeLayout),
		})
	}
	list := c.Echo().Reverse("outbox")
	if after > 0 {
		v.Pagination.FirstURL = list
	}
	if page.NextAfter > 0 {
		v.Pagination.NextURL = fmt.Sprintf("%s?after=%d", list, page.NextAfter)
	}
	return web.Render(c, http.StatusOK, outboxpages.Page(h.page(c, "Outbox", "outbox"), v))
}

// OutboxSendHeld sends the held messages worth sending once SMTP is configured,
// confirm-then-do: without confirm=1 it answers with the warning (a dialog for htmx, a page
// otherwise).
func (h *Handler) OutboxSendHeld(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	back := c.Echo().Reverse("outbox")
	held, sendable, err := h.Outbox.Held(ctx, cur.Admin)
	if err != nil {
		return err
	}
	if !web.Confirmed(c) {
		if sendable == 0 || !h.Outbox.Delivering() {
			return h.flashRedirect(c, views.FlashInfo, "There is no held message to send.", back)
		}
		msg := models.Plural(sendable, "message will be", "messages will be") +
			" sent now: each user's newest invitation whose activation link still works, and the notice of each user who is still disabled."
		if rest := held - sendable; rest > 0 {
			msg += fmt.Sprintf(" The other %s: their links no longer work or their news is out of date (use Resend invitation for those users).",
				models.Plural(rest, "held message stays held", "held messages stay held"))
		}
		p := components.ConfirmProps{
			Title:        fmt.Sprintf("Send %s?", models.Plural(sendable, "held message", "held messages")),
			Message:      msg,
			Action:       c.Echo().Reverse("outbox.send_held"),
			ConfirmLabel: "Send now",
			CancelURL:    back,
		}
		return h.askConfirm(c, p, "outbox", "Outbox")
	}
	n, err := h.Outbox.SendHeld(ctx, cur.Admin, c.RealIP())
	if err != nil {
		return err
	}
	return h.flashRedirect(c, views.FlashSuccess, models.Plural(n, "held message", "held messages")+" queued for delivery.", back)
}

// OutboxMessage serves GET /outbox/:id.
func (h *Handler) OutboxMessage(c echo.Context) error {
	m, err := h.outboxGet(c)
	if err != nil {
		return err
	}
	v := outboxpages.Detail{
		From: h.Outbox.From(), To: m.ToEmail, Subject: m.Subject, MessageID: m.MessageID, Kind: m.Kind.Label(),
		Status: string(m.Status), Label: m.Status.Label(), Attempts: m.Attempts, LastError: m.LastError,
		Created: m.CreatedAt.UTC().Format(web.TimeLayout) + " UTC", Text: m.ConsoleText(), Links: links(m.ConsoleText()),
		HTMLURL: c.Echo().Reverse("outbox.html", m.ID),
	}
	if m.SentAt != nil {
		v.Sent = m.SentAt.UTC().Format(web.TimeLayout) + " UTC"
	}
	if m.BodyPurgedAt != nil {
		v.BodyPurged = m.BodyPurgedAt.UTC().Format(web.TimeLayout) + " UTC"
	}
	// The page shows one-time links: they must not leak to the sites it links to.
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	return web.Render(c, http.StatusOK, outboxpages.Message(h.page(c, m.Subject, "outbox"), v))
}

// OutboxHTML serves a message's HTML part as it will be mailed. As far as the console is
// concerned it is foreign markup: the CSP sandbox gives it an opaque origin, no scripts, no
// forms and nothing loaded from anywhere (inline styles only, as in mail clients).
func (h *Handler) OutboxHTML(c echo.Context) error {
	m, err := h.outboxGet(c)
	if err != nil {
		return err
	}
	hdr := c.Response().Header()
	hdr.Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	hdr.Set("Referrer-Policy", "no-referrer")
	return c.HTMLBlob(http.StatusOK, []byte(m.ConsoleHTML()))
}

func (h *Handler) outboxGet(c echo.Context) (*models.MailMessage, error) {
	id, err := web.ID(c, "id")
	if err != nil {
		return nil, err
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
