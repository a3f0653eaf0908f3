package handlers_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"onramp/handlers"
	"onramp/models"
	"onramp/models/mail/mailtest"
	"onramp/models/secret"
	"onramp/models/services"
	"onramp/views/emails"
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
	flash := createPromising(t, c, "it is held in the outbox", "the invitation email is held in the outbox")
	if strings.Contains(flash, "is queued") {
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
	for _, action := range []string{"resend_invitation", "reset_password"} {
		r := confirmation(t, c, url.Values{"action": {action}, "ids": {fmt.Sprint(ada.ID)}})
		expectBody(t, r, "No SMTP server is configured: the emails are held in the outbox.")
	}
	c.get("/access/users")
	r := c.post("/access/users/actions", url.Values{"action": {"resend_invitation"}, "ids": {fmt.Sprint(ada.ID)}, "confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	r = c.get(r.Header.Get("Location"))
	expectBody(t, r, "A new invitation for 1 user is held in the outbox (no SMTP server is configured).")
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
	createPromising(t, c, "An invitation email is queued for delivery", "an invitation email is queued for delivery")
}

// createPromising creates ada@example.com through the New user form, checking what the form
// and then the creation's flash say of the invitation (and that neither says it is sent); it
// returns the page with the flash.
func createPromising(t *testing.T, c *client, form, flash string) string {
	t.Helper()
	newForm := c.get("/access/users/new")
	expectStatus(t, newForm, http.StatusOK)
	expectBody(t, newForm, form)
	r := c.post("/access/users", url.Values{"first_name": {"Ada"}, "last_name": {"Lovelace"}, "email": {"ada@example.com"}})
	expectStatus(t, r, http.StatusSeeOther)
	page := c.get(r.Header.Get("Location"))
	expectBody(t, page, flash)
	if strings.Contains(newForm.body+page.body, "is sent") {
		t.Fatal("the new-user form or its flash promises that the email is sent")
	}
	return page.body
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

// confirmation posts a Users action without confirm=1 and returns the warning page.
func confirmation(t *testing.T, c *client, form url.Values) response {
	t.Helper()
	c.get("/access/users")
	r := c.post("/access/users/actions", form)
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="confirm-page"`)
	return r
}

func TestActionDialogsNameUsersAndCountDevices(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, 7, func(i int, u *models.SDPUser) {
		u.FirstName, u.LastName = fmt.Sprintf("Ada%d", i), "Lovelace"
	})
	// Three devices among the first two users.
	a.register(a.insertCode(us[0], time.Hour), "laptop")
	a.register(a.insertCode(us[0], time.Hour), "phone")
	a.register(a.insertCode(us[1], time.Hour), "laptop")
	c := a.client()
	c.signIn("boss@example.com")
	all := url.Values{}
	for _, u := range us {
		all.Add("ids", fmt.Sprint(u.ID))
	}
	with := func(action string, v url.Values) url.Values {
		out := url.Values{"action": {action}}
		for k, vs := range v {
			out[k] = vs
		}
		return out
	}

	for _, action := range []string{"reset_password", "disable", "delete"} {
		r := confirmation(t, c, with(action, all))
		expectBody(t, r, ": 7 users?")
		for i := range 5 {
			expectBody(t, r, fmt.Sprintf("Ada%d Lovelace (user%05d@example.com)", i, i))
		}
		if strings.Contains(r.body, "Ada5 Lovelace") || strings.Contains(r.body, "Ada6 Lovelace") {
			t.Errorf("%s: more than five users named", action)
		}
		expectBody(t, r, "and 2 more")
		expectBody(t, r, "3 VPN devices will be signed out.")
	}

	// One user: named, no "more", singular everywhere.
	one := url.Values{"ids": {fmt.Sprint(us[1].ID)}}
	for _, action := range []string{"reset_password", "disable", "delete"} {
		r := confirmation(t, c, with(action, one))
		expectBody(t, r, ": 1 user?")
		expectBody(t, r, "Ada1 Lovelace (user00001@example.com)")
		expectBody(t, r, "1 VPN device will be signed out.")
		for _, wrong := range []string{"and 0 more", "1 users", "1 devices", "1 VPN devices", "These 1", "Each gets"} {
			if strings.Contains(r.body, wrong) {
				t.Errorf("%s on one user says %q", action, wrong)
			}
		}
	}
	r := confirmation(t, c, with("disable", url.Values{"ids": {fmt.Sprint(us[6].ID)}}))
	expectBody(t, r, "No VPN device will be signed out: this user has none.")

	// Actions that leave devices alone still name the users, and say nothing of devices.
	for _, action := range []string{"enable", "resend_invitation", "generate_code"} {
		r := confirmation(t, c, with(action, all))
		expectBody(t, r, "Ada0 Lovelace (user00000@example.com)")
		expectBody(t, r, "and 2 more")
		if strings.Contains(r.body, "VPN device") {
			t.Errorf("%s speaks of devices", action)
		}
	}

	// All matching a filter: the first five in the list's order, the rest counted.
	r = confirmation(t, c, url.Values{"action": {"disable"}, "all_matching": {"1"}, "q": {"ada"}, "sort": {"name"}})
	expectBody(t, r, ": 7 users?")
	expectBody(t, r, "and 2 more")
	expectBody(t, r, "3 VPN devices will be signed out.")
	expectBody(t, r, "Ada4 Lovelace")
	if strings.Contains(r.body, "Ada5 Lovelace") {
		t.Error("all matching: more than five users named")
	}
}

func TestDurationsWrittenTheSameWay(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, 1, nil)
	c := a.client()
	c.signIn("boss@example.com")
	for _, tc := range []struct{ value, unit, want string }{
		{"36", "hours", "36 hours"},
		{"48", "hours", "2 days"},
		{"1", "days", "1 day"},
		{"1", "hours", "1 hour"},
		{"7", "days", "7 days"},
	} {
		c.get("/access/directory-services/provisioning")
		r := c.post("/access/directory-services/provisioning", url.Values{"method": {"registration_code"},
			"code_expiry_value": {tc.value}, "code_expiry_unit": {tc.unit}})
		expectStatus(t, r, http.StatusSeeOther)
		r = confirmation(t, c, url.Values{"action": {"generate_code"}, "ids": {fmt.Sprint(us[0].ID)}})
		expectBody(t, r, "Codes expire after "+tc.want+";")
		r = c.get("/access/client-access")
		expectBody(t, r, "<dd>"+tc.want+"</dd>")
	}
	r := c.get("/access/directory-services/provisioning")
	expectBody(t, r, "From 1 hour to 7 days.")
}

func TestOneThingIsSingular(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.seedUsers(boss.AccountID, 1, nil)
	c := a.client()
	c.signIn("boss@example.com")
	// A set-password link's life is written as every duration is.
	c.get("/settings/administrators")
	r := c.post("/settings/administrators", url.Values{"email": {"hal@example.com"}, "name": {"Hal"}, "role": {"helpdesk"}})
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, "expires in 3 days.")
	// A run over one code counts it in the singular.
	c.get("/access/client-access")
	r = c.post("/access/client-access/generate-codes", url.Values{"confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	r = c.get(r.Header.Get("Location"))
	expectBody(t, r, "0 of 1 code generated (0%)")
}

func TestInvitationOptionsInactiveUnderRegistrationCode(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	c := a.client()
	c.signIn("boss@example.com")
	r := c.get("/access/directory-services/provisioning")
	if strings.Contains(r.body, `data-testid="invitation-options" disabled`) || strings.Contains(r.body, `data-testid="invitation-options-note"`) {
		t.Fatal("the invitation options are inactive under Invitation Email")
	}
	r = c.post("/access/directory-services/provisioning", url.Values{"method": {"registration_code"}, "invite_manual": {"on"},
		"notify_disabled": {"on"}, "code_expiry_value": {"7"}, "code_expiry_unit": {"days"}})
	expectStatus(t, r, http.StatusSeeOther)
	r = c.get("/access/directory-services/provisioning")
	expectBody(t, r, `data-testid="invitation-options" disabled`)
	expectBody(t, r, `data-testid="invitation-options-note"`)
	expectBody(t, r, "no invitation and no disabled-user notice is sent")
	// The inactive options are carried as they are: a browser does not send a disabled
	// fieldset's fields, and saving the page must not turn them off.
	expectBody(t, r, `<input type="hidden" name="invite_manual" value="on">`)
	expectBody(t, r, `<input type="hidden" name="notify_disabled" value="on">`)
	if strings.Contains(r.body, `type="hidden" name="invite_directory"`) {
		t.Fatal("an option that is off is carried as on")
	}
	// What the page says is what happens: a disabled user gets no notice under this method.
	created, err := a.Users.Create(t.Context(), boss, "", usersInput("one@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	c.get("/access/users")
	u := created.User
	r = c.post("/access/users/actions", url.Values{"action": {"disable"}, "ids": {fmt.Sprint(u.ID)}})
	if strings.Contains(r.body, "notification email") {
		t.Error("the disable warning promises a notice under Registration Code")
	}
	expectStatus(t, c.post("/access/users/actions", url.Values{"action": {"disable"}, "ids": {fmt.Sprint(u.ID)}, "confirm": {"1"}}), http.StatusSeeOther)
	if n := a.disabledNotices(boss.AccountID, "one@example.com"); n != 0 {
		t.Errorf("%d disabled notices under Registration Code", n)
	}
}

const clientDownloadURL = "https://downloads.example.com/onramp-client?channel=stable&os=any"

// withClientDownload renders the app's emails with a client download link
// (ONRAMP_CLIENT_DOWNLOAD_URL); serveClientDownload also serves its pages with it.
func withClientDownload(t testing.TB, c *services.Config) {
	c.Renderer = emails.NewRenderer("http://onramp.test").WithClientDownload(clientDownloadURL)
}

// serveClientDownload serves the app's router again, with the client download link set.
func (a *testApp) serveClientDownload() {
	a.t.Helper()
	a.srv.Close()
	router := handlers.New(a.Services, handlers.Config{Keys: secret.NewKeys([]byte("test-secret-test-secret-test-secret!")),
		BaseURL: "http://onramp.test", ClientDownloadURL: clientDownloadURL, Logger: slog.New(slog.DiscardHandler)})
	a.srv = httptest.NewServer(router)
	a.t.Cleanup(a.srv.Close)
}

// invitation queues an invitation to a new user and returns the message as mailed.
func (a *testApp) invitation(boss *models.Admin, email string) *models.MailMessage {
	a.t.Helper()
	if _, err := a.Users.Create(a.t.Context(), boss, "", usersInput(email)); err != nil {
		a.t.Fatal(err)
	}
	ms := a.messagesTo(boss.AccountID, models.MailInvitation, email)
	if len(ms) != 1 {
		a.t.Fatalf("%d invitations to %s", len(ms), email)
	}
	m, err := a.store.MailMessage(a.t.Context(), boss.AccountID, ms[0].ID)
	if err != nil {
		a.t.Fatal(err)
	}
	return m
}

func TestInvitationEmailNamesTheAccountAndLinksTheSignIn(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme-corp", "boss@example.com", models.RoleAdmin)
	m := a.invitation(boss, "ada@example.com")
	for part, body := range map[string]string{"text": m.Text(), "html": m.HTML()} {
		if !strings.Contains(body, "Account name: acme-corp") && !strings.Contains(body, "Account name: <strong>acme-corp</strong>") {
			t.Errorf("the %s part does not state the account name:\n%s", part, body)
		}
		if !strings.Contains(body, "http://onramp.test/myvpn/login?account=acme-corp") {
			t.Errorf("the %s part does not link the sign-in with the account:\n%s", part, body)
		}
		if strings.Contains(body, "downloads.example.com") || strings.Contains(body, "Download the VPN client") {
			t.Errorf("the %s part has a download link although none is configured", part)
		}
	}
	// MyVPN without a download link.
	u := a.activeSDPUser("acme-corp", "grace@example.com")
	c := a.client()
	c.portalSignIn("acme-corp", u.Email, testPassword, "")
	r := c.get("/myvpn")
	expectStatus(t, r, http.StatusOK)
	if strings.Contains(r.body, `data-testid="client-download"`) {
		t.Error("MyVPN offers a download link although none is configured")
	}
}

func TestClientDownloadLink(t *testing.T) {
	t.Parallel()
	a := newApp(t, withClientDownload)
	a.serveClientDownload()
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	m := a.invitation(boss, "ada@example.com")
	if !strings.Contains(m.Text(), clientDownloadURL) {
		t.Errorf("the text part lacks the download link:\n%s", m.Text())
	}
	if !strings.Contains(m.HTML(), `href="https://downloads.example.com/onramp-client?channel=stable&amp;os=any"`) {
		t.Errorf("the HTML part lacks the download link:\n%s", m.HTML())
	}
	u := a.activeSDPUser("acme", "grace@example.com")
	c := a.client()
	c.portalSignIn("acme", u.Email, testPassword, "")
	r := c.get("/myvpn")
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="client-download" href="https://downloads.example.com/onramp-client?channel=stable&amp;os=any"`)
}

func TestPortalSignInPrefillsTheAccount(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.client()
	r := c.get("/myvpn/login?account=acme-corp")
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `name="account" type="text" value="acme-corp"`)
	// Escaped, whatever is in the link.
	r = c.get("/myvpn/login?account=" + url.QueryEscape(`"><script>alert(1)</script>`))
	expectStatus(t, r, http.StatusOK)
	if strings.Contains(r.body, "<script>alert(1)") {
		t.Fatal("the account parameter is not escaped")
	}
	expectBody(t, r, `value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`)
}
