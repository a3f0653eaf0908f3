package handlers_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"onramp/handlers/api"
	"onramp/models"
	"onramp/models/services"
	"onramp/models/stream"
)

// withStreaming lets destinations be webhooks on this machine over plain HTTP (the receivers of
// the tests), as development does.
func withStreaming(_ testing.TB, c *services.Config) { c.Stream.AllowLoopback = true }

var shownSecret = regexp.MustCompile(`data-secret="([^"]+)"`)

// hookReceiver records the events posted to it whose signature checks out with its secret.
type hookReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	events []stream.Payload
	bad    int
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if err := stream.Verify(h.secret, r.Header.Get(stream.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
			h.bad++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p stream.Payload
		_ = json.Unmarshal(body, &p)
		h.events = append(h.events, p)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// wait waits for an event of the type and sub-type (a minute at most) and returns it.
func (h *hookReceiver) wait(t *testing.T, typ, sub string) stream.Payload {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		h.mu.Lock()
		for _, p := range h.events {
			if p.Type == typ && p.SubType == sub {
				h.mu.Unlock()
				return p
			}
		}
		bad := h.bad
		h.mu.Unlock()
		if bad > 0 {
			t.Fatalf("%d requests with a bad signature", bad)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s / %s event arrived", typ, sub)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestEventStreamingConsole(t *testing.T) {
	var log bytes.Buffer
	var logMu sync.Mutex
	a := newApp(t, withStreaming, withLog(&lockedWriter{w: &log, mu: &logMu}))
	a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	a.createAdmin("acme", "hal@example.com", models.RoleHelpdesk)
	a.createAdmin("other", "eve@example.com", models.RoleAdmin)
	hook := newHookReceiver(t)
	a.startJobs()

	help := a.client()
	help.signIn("hal@example.com")
	expectStatus(t, help.get("/settings/event-streaming"), http.StatusForbidden)

	c := a.client()
	c.signIn("ada@example.com")
	r := c.get("/settings/event-streaming")
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, "No destination yet")

	// Bad input keeps what was typed and says what is wrong.
	r = c.post("/settings/event-streaming", url.Values{"kind": {"webhook"}, "name": {"SIEM"}, "url": {"http://siem.example.com/hook"},
		"events": {"User / Created\nNope"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, "The URL must start with https://")
	expectBody(t, r, "&#34;Nope&#34; is not an event type")
	expectBody(t, r, "http://siem.example.com/hook")

	r = c.post("/settings/event-streaming", url.Values{"kind": {"webhook"}, "name": {"SIEM"}, "url": {hook.srv.URL + "/onramp"},
		"events": {"User / Created\r\nEvent Streaming\r\n"}})
	expectStatus(t, r, http.StatusOK)
	m := shownSecret.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no secret shown\n%s", snippet(r.body))
	}
	hook.mu.Lock()
	hook.secret = m[1]
	hook.mu.Unlock()
	// Shown once: the page never shows it again, and no log line or event holds it.
	r = c.get("/settings/event-streaming")
	if strings.Contains(r.body, m[1]) || !strings.Contains(r.body, "Event Streaming, User / Created") {
		t.Fatalf("list page\n%s", snippet(r.body))
	}
	var id int64
	if err := a.store.SQLDB().QueryRow("SELECT id FROM stream_destinations").Scan(&id); err != nil {
		t.Fatal(err)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE type = 'Event Streaming' AND sub_type = 'Destination Created'"); n != 1 {
		t.Fatalf("%d Destination Created events", n)
	}

	// A user created in the console arrives, signed, with the event's fields.
	expectStatus(t, c.post("/access/users", url.Values{"first_name": {"Grace"}, "last_name": {"Hopper"}, "email": {"grace@example.com"}}), http.StatusSeeOther)
	p := hook.wait(t, "User", "Created")
	if p.Account != "acme" || p.Email != "grace@example.com" || p.Actor.Label != "ada@example.com" {
		t.Fatalf("payload %+v", p)
	}

	// Send test event answers with how it went, and the log shows it.
	r = c.post(fmt.Sprintf("/settings/event-streaming/%d/test", id), nil)
	expectStatus(t, r, http.StatusSeeOther)
	r = c.get(r.Header.Get("Location"))
	expectBody(t, r, "The test event was delivered.")
	expectBody(t, r, `data-testid="stream-attempt"`)
	hook.wait(t, "Event Streaming", "Test Event Sent")

	// Another account's admin cannot see, test or delete it.
	eve := a.client()
	eve.signIn("eve@example.com")
	expectStatus(t, eve.get(fmt.Sprintf("/settings/event-streaming/%d", id)), http.StatusNotFound)
	expectStatus(t, eve.post(fmt.Sprintf("/settings/event-streaming/%d/test", id), nil), http.StatusNotFound)
	expectStatus(t, eve.post(fmt.Sprintf("/settings/event-streaming/%d/delete", id), url.Values{"confirm": {"1"}}), http.StatusNotFound)

	// Turned off, then deleted behind a confirmation.
	expectStatus(t, c.post(fmt.Sprintf("/settings/event-streaming/%d/disable", id), nil), http.StatusSeeOther)
	expectBody(t, c.get(fmt.Sprintf("/settings/event-streaming/%d", id)), ">Off<")
	r = c.post(fmt.Sprintf("/settings/event-streaming/%d/delete", id), nil)
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, "Delete SIEM?")
	expectStatus(t, c.post(fmt.Sprintf("/settings/event-streaming/%d/delete", id), url.Values{"confirm": {"1"}}), http.StatusSeeOther)
	expectStatus(t, c.get(fmt.Sprintf("/settings/event-streaming/%d", id)), http.StatusNotFound)
	for _, sub := range []string{"Destination Disabled", "Destination Deleted"} {
		if n := a.countSQL("SELECT COUNT(*) FROM events WHERE type = 'Event Streaming' AND sub_type = ?", sub); n != 1 {
			t.Fatalf("%d %s events", n, sub)
		}
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE details LIKE ?", "%"+m[1]+"%"); n != 0 {
		t.Fatal("an event holds the signing secret")
	}
	logMu.Lock()
	defer logMu.Unlock()
	if strings.Contains(log.String(), m[1]) {
		t.Fatal("the signing secret is in the log")
	}
}

// lockedWriter serialises writes of the app's goroutines to one buffer.
type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestAPIWebhooks(t *testing.T) {
	a := newApp(t, withStreaming)
	hook := newHookReceiver(t)
	tok := a.apiToken("acme", models.ScopeSettingsRead, models.ScopeSettingsWrite)
	a.adminCall(http.MethodPost, "/api/v1/webhooks", tok, map[string]any{"url": "http://siem.example.com/", "events": []string{"User"}}).
		problem(t, http.StatusUnprocessableEntity, "validation")
	a.adminCall(http.MethodPost, "/api/v1/webhooks", tok, map[string]any{"url": hook.srv.URL, "events": []string{"Users"}}).
		problem(t, http.StatusUnprocessableEntity, "validation")

	res := a.adminCall(http.MethodPost, "/api/v1/webhooks", tok, map[string]any{"url": hook.srv.URL + "/in", "events": []string{"User / Created"}})
	res.expect(t, http.StatusCreated)
	var created api.CreatedWebhook
	res.json(t, &created)
	if !strings.HasPrefix(created.Secret, "whsec_") || created.Name != "127.0.0.1" || len(created.Events) != 1 || !created.Enabled {
		t.Fatalf("created %+v", created)
	}
	hook.mu.Lock()
	hook.secret = created.Secret
	hook.mu.Unlock()

	list := a.adminCall(http.MethodGet, "/api/v1/webhooks", tok, nil)
	list.expect(t, http.StatusOK)
	if strings.Contains(list.raw, created.Secret) || !strings.Contains(list.raw, `"events":["User / Created"]`) {
		t.Fatalf("list %s", list.raw)
	}
	// Another account sees none of them.
	other := a.apiToken("other", models.ScopeSettingsRead)
	if r := a.adminCall(http.MethodGet, "/api/v1/webhooks", other, nil); r.raw != "{\"webhooks\":[]}\n" {
		t.Fatalf("the other account's list: %s", r.raw)
	}

	// A user created through the API arrives at the webhook, the token named as actor.
	a.startJobs()
	users := a.apiToken("acme", models.ScopeUsersWrite)
	a.adminCall(http.MethodPost, "/api/v1/users", users, map[string]string{"first_name": "Ada", "last_name": "L", "email": "ada@acme.test"}).
		expect(t, http.StatusCreated)
	p := hook.wait(t, "User", "Created")
	if p.Email != "ada@acme.test" || p.Actor.Type != string(models.ActorAPIToken) {
		t.Fatalf("payload %+v", p)
	}
}
