package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/mail/mailtest"
)

// Labels that tell the truth (issue 9, section 5): the invitation state comes from the mail
// itself, a user with a device registered with a code is Registered.

var rowActivationRE = regexp.MustCompile(`(?s)<tr data-testid="user-row">.*?</tr>`)
var badgeRE = regexp.MustCompile(`<span class="badge badge-[a-z]+">([^<]*)</span>`)

// listActivation is the activation label of email's row in the users list.
func listActivation(t *testing.T, c *client, query, email string) string {
	t.Helper()
	r := c.get("/access/users" + query)
	expectStatus(t, r, http.StatusOK)
	for _, row := range rowActivationRE.FindAllString(r.body, -1) {
		if strings.Contains(row, ">"+email+"<") {
			// The badges of a row: status, then activation.
			if m := badgeRE.FindAllStringSubmatch(row, -1); len(m) >= 2 {
				return m[1][1]
			}
		}
	}
	return ""
}

var userActivationRE = regexp.MustCompile(`(?s)data-testid="user-activation">.*?<span class="badge badge-[a-z]+">([^<]*)</span>(.*?)</dd>`)

// pageActivation is the activation label of the user page, and what follows it in its cell.
func pageActivation(t *testing.T, c *client, u *models.SDPUser) (string, string) {
	t.Helper()
	r := c.get(fmt.Sprintf("/access/users/%d", u.ID))
	expectStatus(t, r, http.StatusOK)
	m := userActivationRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no activation on the user page\n%s", snippet(r.body))
	}
	return m[1], m[2]
}

func TestInvitationStateComesFromTheMail(t *testing.T) {
	t.Parallel()
	a := newApp(t) // no SMTP: mail is held
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.createAdmin("acme", "help@example.com", models.RoleHelpdesk)
	c := a.client()
	c.signIn("boss@example.com")

	// The form and the flash say the email is held, not sent.
	r := c.get("/access/users/new")
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, "held in the outbox")
	if strings.Contains(r.body, "is sent") {
		t.Fatal("the new-user form promises an email is sent without SMTP")
	}
	r = c.post("/access/users", url.Values{"first_name": {"Ada"}, "last_name": {"Lovelace"}, "email": {"ada@example.com"}})
	expectStatus(t, r, http.StatusSeeOther)
	r = c.get(r.Header.Get("Location"))
	expectBody(t, r, "the invitation email is held in the outbox")
	if strings.Contains(r.body, "is queued") || strings.Contains(r.body, "is sent") {
		t.Fatal("the flash promises delivery without SMTP")
	}
	u := a.messagesTo(boss.AccountID, models.MailInvitation, "ada@example.com")
	if len(u) != 1 {
		t.Fatalf("%d invitations", len(u))
	}
	msg := u[0]
	ada := a.user(boss.AccountID, *msg.SDPUserID)
	outboxLink := fmt.Sprintf(`href="/outbox/%d"`, msg.ID)

	for _, tc := range []struct {
		status models.MailStatus
		want   string
	}{
		{models.MailHeld, "Invitation held"},
		{models.MailQueued, "Invitation queued"},
		{models.MailSending, "Invitation queued"},
		{models.MailRetrying, "Invitation retrying"},
		{models.MailSent, "Invitation sent"},
		{models.MailFailed, "Invitation failed"},
		{models.MailUnknown, "Invitation delivery unknown"},
	} {
		a.execSQL("UPDATE mail_messages SET status = ? WHERE id = ?", tc.status, msg.ID)
		if got := listActivation(t, c, "", "ada@example.com"); got != tc.want {
			t.Errorf("%s: the list shows %q, want %q", tc.status, got, tc.want)
		}
		got, rest := pageActivation(t, c, ada)
		if got != tc.want || !strings.Contains(rest, outboxLink) {
			t.Errorf("%s: the user page shows %q %q, want %q and a link to the message", tc.status, got, rest, tc.want)
		}
	}

	// The newest invitation counts: a resent one that is held after a failed one.
	a.execSQL("UPDATE mail_messages SET status = ? WHERE id = ?", models.MailFailed, msg.ID)
	c.get("/access/users")
	r = c.post("/access/users/actions", url.Values{"action": {"resend_invitation"}, "ids": {fmt.Sprint(ada.ID)}, "confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	if got := listActivation(t, c, "", "ada@example.com"); got != "Invitation held" {
		t.Errorf("after resending, the list shows %q", got)
	}

	// Helpdesk may not open the outbox: the label, without the link.
	h := a.client()
	h.signIn("help@example.com")
	got, rest := pageActivation(t, h, ada)
	if got != "Invitation held" || strings.Contains(rest, "/outbox/") {
		t.Errorf("helpdesk sees %q %q", got, rest)
	}

	// Each label filters as invited.
	if got := listActivation(t, c, "?activation=invitation_sent", "ada@example.com"); got != "Invitation held" {
		t.Errorf("the invited filter shows %q", got)
	}
}

func TestInvitationQueuedWithSMTP(t *testing.T) {
	t.Parallel()
	smtp := mailtest.Start(t)
	smtp.Stop() // nothing is delivered: the message stays queued or retrying
	a := newApp(t, withSMTP(smtp))
	a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	c := a.client()
	c.signIn("boss@example.com")
	r := c.get("/access/users/new")
	expectBody(t, r, "An invitation email is queued for delivery")
	if strings.Contains(r.body, "is sent") {
		t.Fatal("the new-user form promises an email is sent")
	}
	r = c.post("/access/users", url.Values{"first_name": {"Ada"}, "last_name": {"Lovelace"}, "email": {"ada@example.com"}})
	expectStatus(t, r, http.StatusSeeOther)
	r = c.get(r.Header.Get("Location"))
	expectBody(t, r, "an invitation email is queued for delivery")
}

func TestRegisteredUserLabelAndFilter(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	grace := a.sdpUser("acme", "grace@example.com") // invited
	fresh := a.sdpUser("acme", "fresh@example.com")
	a.execSQL("UPDATE sdp_users SET activation = ? WHERE id = ?", models.ActivationNew, fresh.ID)
	coded := a.sdpUser("acme", "coded@example.com")
	a.execSQL("UPDATE sdp_users SET activation = ? WHERE id = ?", models.ActivationNew, coded.ID)
	active := a.activeSDPUser("acme", "active@example.com")
	_, graceDevice := a.register(a.insertCode(grace, time.Hour), "laptop")
	a.register(a.insertCode(coded, time.Hour), "phone")
	a.register(a.insertCode(active, time.Hour), "tablet")

	c := a.client()
	c.signIn("boss@example.com")
	for email, want := range map[string]string{"grace@example.com": "Registered", "coded@example.com": "Registered",
		"fresh@example.com": "New", "active@example.com": "Active"} {
		if got := listActivation(t, c, "", email); got != want {
			t.Errorf("%s is shown %q, want %q", email, got, want)
		}
	}
	if got, _ := pageActivation(t, c, grace); got != "Registered" {
		t.Errorf("the user page shows %q", got)
	}
	// The filter agrees with the label.
	lists := func(query string) []string {
		t.Helper()
		r := c.get("/access/users" + query)
		expectStatus(t, r, http.StatusOK)
		var out []string
		for _, email := range []string{"grace@example.com", "coded@example.com", "fresh@example.com", "active@example.com"} {
			if strings.Contains(r.body, ">"+email+"<") {
				out = append(out, email)
			}
		}
		return out
	}
	for q, want := range map[string]string{
		"?activation=registered":      "grace@example.com coded@example.com",
		"?activation=new":             "fresh@example.com",
		"?activation=invitation_sent": "",
		"?activation=active":          "active@example.com",
	} {
		if got := strings.Join(lists(q), " "); got != want {
			t.Errorf("%s lists %q, want %q", q, got, want)
		}
	}
	r := c.get("/access/users")
	expectBody(t, r, `<option value="registered">Registered</option>`)

	// Once its only device is signed out, the user is back to their invitation state.
	c.get(fmt.Sprintf("/access/users/%d", grace.ID))
	expectStatus(t, c.post(signOutPath(grace, graceDevice), url.Values{"confirm": {"1"}}), http.StatusSeeOther)
	if got := listActivation(t, c, "", "grace@example.com"); got != "Invited" {
		t.Errorf("after sign-out grace is shown %q", got)
	}
	if got := strings.Join(lists("?activation=invitation_sent"), " "); got != "grace@example.com" {
		t.Errorf("invited lists %q", got)
	}
}
