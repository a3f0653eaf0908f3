package handlers_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/mail/mailtest"
	"onramp/models/store/storetest"
	"onramp/models/users"
)

// Mail held while no SMTP server was configured can be sent once one is: only what still makes
// sense (each user's newest invitation while its link works, the notices of users still
// disabled), after a confirmation, as one event.
func TestOutboxSendsHeldMailOnceSMTPIsConfigured(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	before := newAppOn(t, s) // no SMTP: everything is held
	boss := before.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	before.createAdmin("acme", "help@example.com", models.RoleHelpdesk)
	ctx := t.Context()
	create := func(email string) *models.SDPUser {
		t.Helper()
		created, err := before.Users.Create(ctx, boss, "", usersInput(email))
		if err != nil {
			t.Fatal(err)
		}
		return created.User
	}
	act := func(a users.Action, u *models.SDPUser) {
		t.Helper()
		if _, err := before.Users.Bulk(ctx, boss, "", a, users.Selection{IDs: []int64{u.ID}}); err != nil {
			t.Fatal(err)
		}
	}
	ann := create("ann@example.com") // invited twice: only the newest link works
	act(users.ActionResendInvitation, ann)
	bob := create("bob@example.com") // his link expired
	before.execSQL("UPDATE one_time_tokens SET expires_at = ? WHERE sdp_user_id = ?", time.Now().UTC().Add(-time.Hour), bob.ID)
	cat := create("cat@example.com") // disabled: her notice stands, her link died with the disable
	act(users.ActionDisable, cat)
	dan := create("dan@example.com") // disabled, then enabled again: old news
	act(users.ActionDisable, dan)
	act(users.ActionEnable, dan)
	c := before.client()
	c.signIn("boss@example.com")
	if r := c.get("/outbox"); r.StatusCode != http.StatusOK || strings.Contains(r.body, `data-testid="held-mail"`) {
		t.Fatal("without SMTP the outbox offers to send held mail")
	}

	srv := mailtest.Start(t)
	after := newAppOn(t, s, withSMTP(srv)) // the server restarted with SMTP_URL set
	c = after.client()
	c.signIn("boss@example.com")
	r := c.get("/outbox")
	expectBody(t, r, `data-testid="held-mail"`)
	expectBody(t, r, "7 messages were kept while no SMTP server was configured")
	expectBody(t, r, "Send 2 held messages")
	r = c.post("/outbox/send-held", nil)
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="confirm-page"`)
	expectBody(t, r, "The other 5 held messages stay held")
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages sent before the confirmation", n)
	}
	help := after.client()
	help.signIn("help@example.com")
	expectStatus(t, help.post("/outbox/send-held", url.Values{"confirm": {"1"}}), http.StatusForbidden)

	// Read while held: a message erases its link once it is sent.
	links := after.invitationLinks(boss.AccountID, "ann@example.com")
	r = c.post("/outbox/send-held", url.Values{"confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	expectBody(t, c.get("/outbox"), "2 held messages queued for delivery")
	got := srv.Wait(2, 10*time.Second)
	var to []string
	for _, m := range got {
		to = append(to, m.To...)
	}
	slices.Sort(to)
	if !slices.Equal(to, []string{"ann@example.com", "cat@example.com"}) {
		t.Fatalf("sent to %v", to)
	}
	if len(links) != 2 || !strings.Contains(got[0].Text+got[1].Text, links[len(links)-1]) || strings.Contains(got[0].Text+got[1].Text, links[0]) {
		t.Fatalf("ann did not get her newest link (%v)", links)
	}
	if n := after.countSQL("SELECT COUNT(*) FROM events WHERE sub_type = ? AND details LIKE ?", models.SubHeldMailSent, `%"messages":"2"%`); n != 1 {
		t.Fatalf("%d Held Mail Sent events", n)
	}
	if n := after.countSQL("SELECT COUNT(*) FROM mail_messages WHERE status = ?", string(models.MailHeld)); n != 5 {
		t.Fatalf("%d messages still held, want 5", n)
	}
	if r := c.get("/outbox"); strings.Contains(r.body, `data-testid="held-mail"`) {
		t.Fatal("the outbox still offers to send held mail")
	}
}
