package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/mail"
	"onramp/models/mail/mailtest"
	"onramp/models/store"
)

// queueInvitation queues an invitation for to in the account of admin, as the users service does.
func (a *testApp) queueInvitation(admin *models.Admin, to string) {
	a.t.Helper()
	ctx := context.Background()
	acct, err := a.store.Account(ctx, admin.AccountID)
	if err != nil {
		a.t.Fatal(err)
	}
	err = a.store.Tx(ctx, func(tx *store.Store) error {
		return a.Outbox.QueueInvitations(ctx, tx, []mail.Invitation{{AccountID: acct.ID, AccountName: acct.Name, To: to, FirstName: "Ann",
			ActivationURL: "http://onramp.test/myvpn/activate/tok-" + strings.ReplaceAll(to, "@", "-"), ExpiresAt: time.Now().Add(24 * time.Hour)}})
	})
	if err != nil {
		a.t.Fatal(err)
	}
}

var mailRowRE = regexp.MustCompile(`href="(/outbox/\d+)"`)

// waitForOutbox reloads the outbox until its body has want, failing after a few seconds.
func waitForOutbox(t *testing.T, c *client, want string) response {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := c.get("/outbox")
		if strings.Contains(r.body, want) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("the outbox never showed %q:\n%s", want, snippet(r.body))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestOutboxHoldsMailWithoutSMTP(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.queueInvitation(boss, "ann@example.com")
	c := a.client()
	c.signIn("boss@example.com")

	r := c.get("/outbox")
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="smtp-off"`)
	expectBody(t, r, "ann@example.com")
	expectBody(t, r, "Activate your acme VPN account")
	expectBody(t, r, `<span class="badge badge-neutral">Held</span>`)
	if n := strings.Count(r.body, `data-testid="mail-row"`); n != 1 {
		t.Fatalf("%d rows", n)
	}
	expectBody(t, r, `href="/outbox"`) // the navigation entry

	m := mailRowRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatal("no link to the message")
	}
	const link = "http://onramp.test/myvpn/activate/tok-ann-example.com"
	r = c.get(m[1])
	expectStatus(t, r, http.StatusOK)
	if r.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Error("the message page leaks its links in Referer")
	}
	expectBody(t, r, `data-testid="text-part"`)
	expectBody(t, r, "Install the VPN client")
	expectBody(t, r, `<a href="`+link+`" rel="noreferrer noopener" target="_blank" data-testid="mail-link">`)
	expectBody(t, r, "onramp@onramp.test")
	expectBody(t, r, "@onramp.test&gt;") // the Message-ID

	r = c.get(m[1] + "/html")
	expectStatus(t, r, http.StatusOK)
	if csp := r.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox;") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("HTML part served with CSP %q", csp)
	}
	expectBody(t, r, `href="`+link+`"`)
}

func TestOutboxIsForAdminsOfTheAccount(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.createAdmin("acme", "help@example.com", models.RoleHelpdesk)
	hank := a.createAdmin("globex", "hank@globex.example", models.RoleAdmin)
	a.queueInvitation(boss, "ann@example.com")
	a.queueInvitation(hank, "secret-user@globex.example")

	c := a.client()
	c.signIn("boss@example.com")
	r := c.get("/outbox")
	if strings.Contains(r.body, "globex") {
		t.Fatal("another account's mail is listed")
	}
	own := mailRowRE.FindStringSubmatch(r.body)[1]

	g := a.client()
	g.signIn("hank@globex.example")
	theirs := mailRowRE.FindStringSubmatch(g.get("/outbox").body)[1]
	expectStatus(t, c.get(theirs), http.StatusNotFound)
	expectStatus(t, c.get(theirs+"/html"), http.StatusNotFound)
	expectStatus(t, c.get("/outbox/not-a-number"), http.StatusNotFound)

	h := a.client()
	h.signIn("help@example.com")
	for _, p := range []string{"/outbox", own, own + "/html"} {
		expectStatus(t, h.get(p), http.StatusForbidden)
	}
	if strings.Contains(h.get("/").body, `href="/outbox"`) {
		t.Error("helpdesk navigation links to the Outbox")
	}
}

// End to end: an invitation rendered by views/emails goes through River and SMTP, and the
// outbox follows its status (retrying with the SMTP error, then sent).
func TestOutboxShowsDelivery(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t)
	srv.Refuse(451, "Greylisted, try again")
	a := newApp(t, withSMTP(srv))
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	c := a.client()
	c.signIn("boss@example.com")
	a.queueInvitation(boss, "ann@example.com")

	r := waitForOutbox(t, c, `badge-warning">Retrying</span>`)
	if !regexp.MustCompile(`<td class="small">[^<]*451 [^<]*Greylisted, try again`).MatchString(r.body) {
		t.Errorf("the SMTP error is not shown:\n%s", snippet(r.body))
	}
	if strings.Contains(r.body, `data-testid="smtp-off"`) {
		t.Error("the outbox says SMTP is off")
	}

	srv.Accept()
	got := srv.Wait(1, 10*time.Second)[0]
	r = waitForOutbox(t, c, `badge-success">Sent</span>`)
	const link = "http://onramp.test/myvpn/activate/tok-ann-example.com"
	for _, want := range []string{"acme", "ann@example.com", link, "Install the VPN client", "http://onramp.test/myvpn/login"} {
		if !strings.Contains(got.Text, want) || !strings.Contains(got.HTML, want) {
			t.Errorf("a part lacks %q:\ntext: %s\nhtml: %s", want, got.Text, got.HTML)
		}
	}
	r = c.get(mailRowRE.FindStringSubmatch(r.body)[1])
	expectBody(t, r, strings.ReplaceAll(strings.ReplaceAll(got.MessageID, "<", "&lt;"), ">", "&gt;"))
	if len(srv.Messages()) != 1 {
		t.Fatalf("%d deliveries", len(srv.Messages()))
	}
}

func TestOutboxPagination(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	for i := range mail.PageSize + 5 {
		a.queueInvitation(boss, fmt.Sprintf("user%02d@example.com", i))
	}
	c := a.client()
	c.signIn("boss@example.com")
	r := c.get("/outbox")
	if n := strings.Count(r.body, `data-testid="mail-row"`); n != mail.PageSize {
		t.Fatalf("first page has %d rows", n)
	}
	if !strings.Contains(r.body, "user54@example.com") || strings.Contains(r.body, "user04@example.com") {
		t.Fatal("the first page is not the newest")
	}
	m := regexp.MustCompile(`href="(/outbox\?after=\d+)"[^>]*data-testid="next-page"`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatal("no next-page link")
	}
	r = c.get(m[1])
	if n := strings.Count(r.body, `data-testid="mail-row"`); n != 5 {
		t.Fatalf("second page has %d rows", n)
	}
	if !strings.Contains(r.body, "user00@example.com") || strings.Contains(r.body, `data-testid="next-page"`) {
		t.Fatal("the last page is wrong")
	}
}
