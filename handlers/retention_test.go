package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"onramp/models"
)

func TestRetentionSettings(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.createAdmin("acme", "help@example.com", models.RoleHelpdesk)
	c := a.client()
	c.signIn("boss@example.com")

	r := c.get("/settings/retention")
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="retention-form"`)
	expectBody(t, r, `name="event_retention_days" type="number" value="400"`)
	expectBody(t, r, `name="mail_body_retention_days" type="number" value="30"`)
	expectBody(t, r, `href="/settings/retention"`) // the navigation entry

	r = c.post("/settings/retention", url.Values{"event_retention_days": {"ten"}, "mail_body_retention_days": {"0"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, `data-testid="error-event_retention_days">Enter a whole number of days.`)
	expectBody(t, r, `value="ten"`)
	r = c.post("/settings/retention", url.Values{"event_retention_days": {"20"}, "mail_body_retention_days": {"0"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, `data-testid="error-event_retention_days">Keep events from 30 to 3650 days.`)
	expectBody(t, r, `data-testid="error-mail_body_retention_days">Keep the bodies of sent mail from 1 to 3650 days.`)
	if n := a.eventCount(models.SubSettingsChanged); n != 0 {
		t.Fatalf("%d Settings Changed events after refusals", n)
	}

	r = c.post("/settings/retention", url.Values{"event_retention_days": {" 90 "}, "mail_body_retention_days": {"7"}})
	expectStatus(t, r, http.StatusSeeOther)
	r = c.get(r.Header.Get("Location"))
	expectBody(t, r, "Data Retention settings saved.")
	expectBody(t, r, `value="90"`)
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE sub_type = ? AND details LIKE ?", models.SubSettingsChanged, "%400 days → 90 days%"); n != 1 {
		t.Fatalf("%d Settings Changed events naming the change", n)
	}

	r = c.postRaw("/settings/retention", url.Values{"event_retention_days": {"31"}, "mail_body_retention_days": {"7"}})
	expectStatus(t, r, http.StatusForbidden) // no CSRF token
	h := a.client()
	h.signIn("help@example.com")
	expectStatus(t, h.get("/settings/retention"), http.StatusForbidden)
	h.get("/")
	expectStatus(t, h.post("/settings/retention", url.Values{"event_retention_days": {"31"}, "mail_body_retention_days": {"7"}}), http.StatusForbidden)
	if strings.Contains(h.get("/").body, `href="/settings/retention"`) {
		t.Error("helpdesk navigation links to Data Retention")
	}
	if s, _ := a.Retention.Get(t.Context(), boss); s.EventDays != 90 {
		t.Fatalf("saved %+v", s)
	}
}

// A sent email past its account's retention keeps its row in the Outbox, without its text.
func TestOutboxAfterRetention(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.queueInvitation(boss, "ann@example.com")
	a.execSQL("UPDATE mail_messages SET status = 'sent', sent_at = ?", a.clock())
	a.advance(31 * 24 * time.Hour)
	if res, err := a.Retention.Purge(t.Context(), time.Minute); err != nil || res.MailBodies != 1 {
		t.Fatalf("purge: %+v %v", res, err)
	}
	c := a.client()
	c.signIn("boss@example.com")
	r := c.get("/outbox")
	expectBody(t, r, "ann@example.com")
	m := mailRowRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatal("no link to the message")
	}
	r = c.get(m[1])
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="body-purged"`)
	expectBody(t, r, "Activate your acme VPN account") // the subject stays
	if strings.Contains(r.body, `data-testid="text-part"`) || strings.Contains(r.body, "/myvpn/activate/") {
		t.Fatal("the emptied message still shows its text")
	}
	if n := a.eventCount(models.SubDataPurged); n != 1 {
		t.Fatalf("%d Data Purged events", n)
	}
}
