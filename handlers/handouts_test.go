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
	"onramp/models/codes"
	"onramp/models/mail/mailtest"
	"onramp/models/users"
)

// dataCodeRE finds the codes a result page shows.
var dataCodeRE = regexp.MustCompile(`data-code="([A-Z0-9-]+)"`)

// useRegistrationCodes switches the signed-in admin's account to the Registration Code method.
func useRegistrationCodes(t *testing.T, c *client) {
	t.Helper()
	c.get("/access/directory-services/provisioning")
	r := c.post("/access/directory-services/provisioning", url.Values{"method": {"registration_code"},
		"code_expiry_value": {"2"}, "code_expiry_unit": {"days"}})
	expectStatus(t, r, http.StatusSeeOther)
}

// act confirms a Users action on ids and returns the answer (a redirect to the result page).
func (c *client) act(action string, ids ...int64) response {
	c.t.Helper()
	c.get("/access/users")
	form := url.Values{"action": {action}, "confirm": {"1"}}
	for _, id := range ids {
		form.Add("ids", fmt.Sprint(id))
	}
	return c.post("/access/users/actions", form)
}

// shownCodes follows an action's redirect to its result page and returns the page and the
// codes it shows.
func (c *client) shownCodes(r response) (response, []string) {
	c.t.Helper()
	loc := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/access/users/codes/") {
		c.t.Fatalf("%d to %q, not a result page: %s", r.StatusCode, loc, snippet(r.body))
	}
	page := c.get(loc)
	if page.StatusCode != http.StatusOK {
		c.t.Fatalf("GET %s: %d", loc, page.StatusCode)
	}
	var out []string
	for _, m := range dataCodeRE.FindAllStringSubmatch(page.body, -1) {
		out = append(out, m[1])
	}
	return page, out
}

func (a *testApp) userByEmail(accountID int64, email string) *models.SDPUser {
	a.t.Helper()
	u, err := a.store.UserByEmail(a.t.Context(), accountID, email)
	if err != nil {
		a.t.Fatal(err)
	}
	return u
}

func TestNewUserUnderRegistrationCodeGetsACodeShownOnce(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	c := a.client()
	c.signIn("boss@example.com")

	// Invitation Email: no code, no result page.
	c.get("/access/users/new")
	r := c.post("/access/users", url.Values{"first_name": {"Ada"}, "last_name": {"Lovelace"}, "email": {"ada@example.com"}})
	expectStatus(t, r, http.StatusSeeOther)
	if strings.HasPrefix(r.Header.Get("Location"), "/access/users/codes/") || a.eventCount(models.SubCodeGenerated) != 0 {
		t.Fatal("a user created under the Invitation Email method got a code")
	}

	useRegistrationCodes(t, c)
	expectBody(t, c.get("/access/directory-services/provisioning"), "Switching does not generate codes for existing users")
	if ada := a.userByEmail(boss.AccountID, "ada@example.com"); len(a.userCodes(boss.AccountID, ada.ID)) != 0 {
		t.Fatal("switching the method generated a code for an existing user")
	}
	expectBody(t, c.get("/access/users/new"), `data-testid="new-user-codes"`)
	r = c.post("/access/users", url.Values{"first_name": {"Grace"}, "last_name": {"Hopper"}, "email": {"grace@example.com"}})
	loc := r.Header.Get("Location")
	page, shown := c.shownCodes(r)
	grace := a.userByEmail(boss.AccountID, "grace@example.com")
	cs := a.userCodes(boss.AccountID, grace.ID)
	if len(cs) != 1 || cs[0].GeneratedBy != models.GeneratedByCreation || len(shown) != 1 || shown[0] != codes.Format(a.codeText(cs[0])) {
		t.Fatalf("codes %+v, shown %v", cs, shown)
	}
	expectBody(t, page, "Generated a registration code for 1 user.")
	if a.eventCount(models.SubCodeGenerated) != 1 {
		t.Fatal("no Generated event")
	}
	// Reloading shows nothing: the codes are gone from the page for good.
	again := c.get(loc)
	expectStatus(t, again, http.StatusGone)
	expectBody(t, again, "shown once already")
	if strings.Contains(again.body, shown[0]) {
		t.Fatal("the reload shows the code")
	}
	// The user page tells the code's life, never the code.
	r = c.get(fmt.Sprintf("/access/users/%d", grace.ID))
	expectBody(t, r, "Automatic, at creation · boss@example.com")
	expectBody(t, r, "Shown on screen")
	if strings.Contains(r.body, shown[0]) {
		t.Fatal("the user page shows the code")
	}
}

func TestGeneratedCodesShownOnceWithCopyQRAndLinks(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.createAdmin("acme", "other@example.com", models.RoleAdmin)
	a.createAdmin("globex", "stranger@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, 2, nil)
	c := a.client()
	c.signIn("boss@example.com")
	r := c.act("generate_code", us[0].ID, us[1].ID)
	loc := r.Header.Get("Location")
	page, shown := c.shownCodes(r)
	if len(shown) != 2 {
		t.Fatalf("%d codes shown", len(shown))
	}
	for _, code := range shown {
		link := "onramp://enroll?server=http%3A%2F%2Fonramp.test&amp;account=acme&amp;code=" + code
		expectBody(t, page, `href="`+link+`"`)
		expectBody(t, page, `href="http://onramp.test/enroll?server=http%3A%2F%2Fonramp.test&amp;account=acme&amp;code=`+code+`"`)
	}
	if n := strings.Count(page.body, `data-testid="copy-code"`); n != 2 {
		t.Fatalf("%d copy buttons", n)
	}
	if n := strings.Count(page.body, `src="data:image/png;base64,`); n != 2 {
		t.Fatalf("%d QR codes", n)
	}
	if cc := page.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q", cc)
	}
	// Another admin of the account, and an admin of another account, see nothing.
	for _, who := range []string{"other@example.com", "stranger@example.com"} {
		o := a.client()
		o.signIn(who)
		expectStatus(t, o.get(loc), http.StatusNotFound)
		expectStatus(t, o.get(loc+"/codes.csv"), http.StatusNotFound)
	}
	expectStatus(t, c.get(loc), http.StatusGone)
	// No other page shows a code.
	for _, p := range []string{"/access/users", fmt.Sprintf("/access/users/%d", us[0].ID), "/events"} {
		body := c.get(p).body
		for _, code := range shown {
			if strings.Contains(body, code) {
				t.Fatalf("%s shows a code", p)
			}
		}
	}
}

func TestHelpdeskDownloadsOnlyTheCodesTheyGenerated(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.createAdmin("acme", "help@example.com", models.RoleHelpdesk)
	us := a.seedUsers(boss.AccountID, 3, nil)
	admin := a.client()
	admin.signIn("boss@example.com")
	_, bossCodes := admin.shownCodes(admin.act("generate_code", us[0].ID))

	help := a.client()
	help.signIn("help@example.com")
	expectBody(t, help.get("/access/users"), `data-testid="action-email_code"`)
	r := help.act("generate_code", us[1].ID, us[2].ID)
	loc := r.Header.Get("Location")
	csv := help.get(loc + "/codes.csv")
	expectStatus(t, csv, http.StatusOK)
	if cd := csv.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="registration-codes-acme-`) {
		t.Fatalf("Content-Disposition %q", cd)
	}
	rows := csvRows(t, csv.body)
	if strings.Join(rows[0], ",") != strings.Join(codes.CSVHeader, ",") || len(rows) != 3 {
		t.Fatalf("rows %v", rows)
	}
	got := map[string]bool{}
	for _, row := range rows[1:] {
		got[row[3]] = true
		if _, err := time.Parse(time.RFC3339, row[4]); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range us[1:] {
		if cs := a.userCodes(boss.AccountID, u.ID); len(cs) != 1 || !got[codes.Format(a.codeText(cs[0]))] {
			t.Fatalf("the CSV lacks %s's code", u.Email)
		}
	}
	if got[bossCodes[0]] {
		t.Fatal("helpdesk downloaded a code another admin generated")
	}
	// Once: a second download is refused with a page that says why.
	again := help.get(loc + "/codes.csv")
	expectStatus(t, again, http.StatusGone)
	expectBody(t, again, "downloaded once already")
	if again.Header.Get("Content-Disposition") != "" {
		t.Fatal("the refusal is an attachment")
	}
	// The codes are recorded as delivered in a CSV, and the download as an event.
	expectBody(t, admin.get(fmt.Sprintf("/access/users/%d", us[1].ID)), "In a CSV")
	expectBody(t, admin.get(fmt.Sprintf("/access/users/%d", us[1].ID)), "Helpdesk · help@example.com")
	if a.eventCount(models.SubCodesDownload) != 1 {
		t.Fatal("no Downloaded event")
	}
	// The result page still shows them once, after the CSV, without a second CSV.
	page := help.get(loc)
	expectStatus(t, page, http.StatusOK)
	if strings.Contains(page.body, `data-testid="handout-csv"`) {
		t.Fatal("the page offers the CSV again")
	}
}

func TestCodeGenerationSkipsUsersWithMFA(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, 4, func(i int, u *models.SDPUser) {
		u.MFAConfigured = i >= 2
	})
	c := a.client()
	c.signIn("boss@example.com")
	for _, action := range []string{"generate_code", "email_code"} {
		page, shown := c.shownCodes(c.act(action, us[0].ID, us[2].ID, us[3].ID))
		if len(shown) != 1 {
			t.Fatalf("%s: %d codes", action, len(shown))
		}
		expectBody(t, page, `href="/access/users?mfa=yes" data-testid="handout-mfa">2 skipped: MFA configured</a>`)
	}
	// Generate for new users skips them too, and says so.
	r := c.get("/access/client-access")
	expectBody(t, r, `data-testid="new-users-count">1<`)
	expectBody(t, r, "2 skipped: MFA configured")
	c.post("/access/client-access/generate-codes", url.Values{"confirm": {"1"}})
	a.startJobs()
	deadline := time.Now().Add(30 * time.Second)
	for len(a.userCodes(boss.AccountID, us[1].ID)) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if len(a.userCodes(boss.AccountID, us[1].ID)) != 1 {
		t.Fatal("the run did not give the user without MFA a code")
	}
	for _, u := range us[2:] {
		if cs := a.userCodes(boss.AccountID, u.ID); len(cs) != 0 {
			t.Fatalf("a user with MFA got %d codes", len(cs))
		}
	}
}

func TestEmailCodeReachesTheUserAndRegistersADevice(t *testing.T) {
	t.Parallel()
	smtp := mailtest.Start(t)
	a := newApp(t, withSMTP(smtp))
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.createAdmin("acme", "help@example.com", models.RoleHelpdesk)
	us := a.seedUsers(boss.AccountID, 2, func(i int, u *models.SDPUser) {
		if i == 1 {
			u.Status = models.UserDisabled
		}
	})
	c := a.client()
	c.signIn("help@example.com")
	c.get("/access/users")
	r := c.post("/access/users/actions", url.Values{"action": {"email_code"}, "ids": {fmt.Sprint(us[0].ID), fmt.Sprint(us[1].ID)}})
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, "Each enabled user among these 2 users gets a new registration code, emailed to them")
	page, shown := c.shownCodes(c.act("email_code", us[0].ID, us[1].ID))
	expectBody(t, page, "Generated and emailed a registration code for 1 user. 1 skipped: disabled.")
	if len(shown) != 1 {
		t.Fatalf("%d codes shown", len(shown))
	}
	msgs := smtp.Wait(1, 30*time.Second)
	if len(msgs) != 1 || msgs[0].To[0] != us[0].Email {
		t.Fatalf("mail %+v", msgs)
	}
	m := msgs[0]
	for _, want := range []string{shown[0], "acme", "http://onramp.test", "onramp://enroll?server=http%3A%2F%2Fonramp.test&account=acme&code=" + shown[0]} {
		if !strings.Contains(m.Text, want) {
			t.Fatalf("the text part lacks %q:\n%s", want, m.Text)
		}
	}
	if !strings.Contains(m.HTML, shown[0]) {
		t.Fatal("the HTML part lacks the code")
	}
	// At rest the code was kept apart from the bodies, and is gone once the mail is sent.
	stored := a.messagesTo(boss.AccountID, models.MailCode, us[0].Email)
	if len(stored) != 1 || strings.Contains(stored[0].TextBody+stored[0].HTMLBody, shown[0]) {
		t.Fatal("the mail row holds the code in its bodies")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		full, err := a.store.MailMessage(t.Context(), boss.AccountID, stored[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if full.Status == models.MailSent && full.Secret == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %s, secret kept: %v", full.Status, full.Secret != "")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if a.eventCount(models.SubCodeSent) != 1 {
		t.Fatal("no Sent event")
	}
	expectBody(t, c.get(fmt.Sprintf("/access/users/%d", us[0].ID)), "Emailed")
	// The code in the mail registers a device.
	res := a.api(http.MethodPost, "/api/v1/client/register", "", registerBody(shown[0], "laptop"))
	expectAPI(t, res, http.StatusCreated, "")
	// The user page says which device used it, and from where.
	r = c.get(fmt.Sprintf("/access/users/%d", us[0].ID))
	expectBody(t, r, ">laptop</a>")
	expectBody(t, r, "from 127.0.0.1")
}

// A background run of generate_code (over a thousand users) hands its codes to the admin who
// started it as a CSV, once, from its progress page.
func TestBackgroundGenerateCodeHandsOverACSV(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.createAdmin("acme", "other@example.com", models.RoleAdmin)
	// One more user than an action does in the request: the fewest codes that make a run.
	us := a.seedUsers(boss.AccountID, users.InRequestLimit+1, nil)
	c := a.client()
	c.signIn("boss@example.com")
	c.get("/access/users")
	a.startJobs()
	runURL, _ := runStarted(t, c.post("/access/users/actions", url.Values{"action": {"generate_code"}, "all_matching": {"1"}, "confirm": {"1"}}))
	r := c.waitRunDone(runURL, time.Minute)
	m := regexp.MustCompile(`href="(/access/users/codes/\d+)" data-testid="user-run-codes"`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("the run page offers no codes: %s", snippet(r.body))
	}
	other := a.client()
	other.signIn("other@example.com")
	if strings.Contains(other.get(runURL).body, `data-testid="user-run-codes"`) {
		t.Fatal("another admin is offered the run's codes")
	}
	expectStatus(t, other.get(m[1]+"/codes.csv"), http.StatusNotFound)
	page := c.get(m[1])
	expectBody(t, page, "too many for one page")
	if strings.Contains(page.body, "data-code=") {
		t.Fatal("the page shows thousands of codes")
	}
	csv := c.get(m[1] + "/codes.csv")
	expectStatus(t, csv, http.StatusOK)
	if rows := csvRows(t, csv.body); len(rows) != 1+len(us) {
		t.Fatalf("%d rows for %d users", len(rows), len(us))
	}
	expectStatus(t, c.get(m[1]+"/codes.csv"), http.StatusGone)
	if strings.Contains(c.get(runURL).body, `data-testid="user-run-codes"`) {
		t.Fatal("the run page offers the codes after their download")
	}
}

func TestEnrollPage(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.client()
	r := c.get("/enroll?server=http%3A%2F%2Fevil.test&account=acme&code=abcd-efgh-jkmn-pqrs")
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-code="ABCD-EFGH-JKMN-PQRS"`)
	expectBody(t, r, `data-testid="enroll-server">http://onramp.test<`)
	if strings.Contains(r.body, "evil.test") {
		t.Fatal("the page vouches for the server named in the link")
	}
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("headers %v", r.Header)
	}
	for _, bad := range []string{"/enroll", "/enroll?account=acme&code=0000-0000-0000-0000", "/enroll?account=Not%20A%20Slug&code=ABCD-EFGH-JKMN-PQRS"} {
		r := c.get(bad)
		expectStatus(t, r, http.StatusBadRequest)
		expectBody(t, r, "This enrollment link is damaged")
	}
}

// Without SMTP an emailed code is held in the outbox, which admins read: the code is not shown
// there (the admin who generated it saw it once on the result page).
func TestHeldCodeMailDoesNotShowTheCode(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, 1, nil)
	c := a.client()
	c.signIn("boss@example.com")
	_, shown := c.shownCodes(c.act("email_code", us[0].ID))
	held := a.messagesTo(boss.AccountID, models.MailCode, us[0].Email)
	if len(shown) != 1 || len(held) != 1 || held[0].Status != models.MailHeld {
		t.Fatalf("shown %v, held %+v", shown, held)
	}
	for _, p := range []string{fmt.Sprintf("/outbox/%d", held[0].ID), fmt.Sprintf("/outbox/%d/html", held[0].ID)} {
		r := c.get(p)
		expectStatus(t, r, http.StatusOK)
		expectBody(t, r, "not shown here")
		if strings.Contains(r.body, shown[0]) {
			t.Fatalf("%s shows the code", p)
		}
	}
}
