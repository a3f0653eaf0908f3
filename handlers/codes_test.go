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
	"onramp/models/store"
)

var (
	runPollRE    = regexp.MustCompile(`hx-get="(/access/client-access/runs/\d+)"`)
	newUsersRE   = regexp.MustCompile(`data-testid="new-users-count">(\d+)<`)
	runStatusRE  = regexp.MustCompile(`data-testid="code-run" data-status="(\w+)"`)
	dispositonRE = regexp.MustCompile(`^attachment; filename="registration-codes-acme-\d{4}-\d{2}-\d{2}\.csv"$`)
)

func expectNewUsers(t *testing.T, r response, want int) {
	t.Helper()
	m := newUsersRE.FindStringSubmatch(r.body)
	if m == nil || m[1] != fmt.Sprint(want) {
		t.Fatalf("users that never had a code: %v, want %d", m, want)
	}
}

func TestGenerateForNewUsers(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, 8, func(i int, u *models.SDPUser) {
		if i == 7 {
			u.Status = models.UserDisabled
		}
	})
	// User 6 has a code already: untouched by "new users".
	if _, err := a.Codes.GenerateForUsers(t.Context(), boss, "", []int64{us[6].ID}); err != nil {
		t.Fatal(err)
	}
	c := a.client()
	c.signIn("boss@example.com")
	r := c.get("/access/client-access")
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `href="/access/client-access"`) // the navigation entry
	expectBody(t, r, "User Provisioning")
	expectBody(t, r, "Invitation Email")
	expectBody(t, r, "7 days")
	expectNewUsers(t, r, 6)

	// Without confirm=1: the warning with the exact count (a page, or a dialog for htmx).
	r = c.post("/access/client-access/generate-codes", nil)
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="confirm-page"`)
	expectBody(t, r, "A code will be generated for all 6 users that never had a code")
	c.header.Set("HX-Request", "true")
	r = c.post("/access/client-access/generate-codes", nil)
	c.header.Del("HX-Request")
	if !strings.HasPrefix(strings.TrimSpace(r.body), "<dialog") || !strings.Contains(r.body, "all 6 users that never had a code") {
		t.Fatalf("htmx warning: %s", snippet(r.body))
	}
	if n := a.eventCount(models.SubCodeGenerated); n != 1 {
		t.Fatalf("codes generated before the confirmation (%d events)", n)
	}

	// Confirmed: the run is queued and the page shows it, polling while it is open.
	r = c.post("/access/client-access/generate-codes", url.Values{"confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	if r.Header.Get("Location") != "/access/client-access" {
		t.Fatalf("redirected to %q", r.Header.Get("Location"))
	}
	r = c.get("/access/client-access")
	expectBody(t, r, "Generating registration codes for 6 users")
	expectBody(t, r, `data-status="queued"`)
	expectBody(t, r, `hx-trigger="every 1s"`)
	expectBody(t, r, `data-testid="code-run-refresh"`) // the link for browsers without JavaScript
	expectBody(t, r, `data-testid="generate-new-users" disabled`)
	poll := runPollRE.FindStringSubmatch(r.body)
	if poll == nil {
		t.Fatal("no polling URL")
	}
	// A second click while it runs starts nothing.
	c.get("/access/client-access")
	expectStatus(t, c.post("/access/client-access/generate-codes", url.Values{"confirm": {"1"}}), http.StatusSeeOther)
	expectBody(t, c.get("/access/client-access"), "already being generated")
	var runs int
	if err := a.store.SQLDB().QueryRow("SELECT COUNT(*) FROM runs").Scan(&runs); err != nil || runs != 1 {
		t.Fatalf("%d runs %v", runs, err)
	}
	// Without htmx the fragment's URL goes back to the page.
	if r := c.get(poll[1]); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("plain GET of the fragment: %d", r.StatusCode)
	}
	// Another account's admin does not see the run.
	a.createAdmin("globex", "hank@globex.example", models.RoleAdmin)
	other := a.client()
	other.signIn("hank@globex.example")
	other.header.Set("HX-Request", "true")
	expectStatus(t, other.get(poll[1]), http.StatusNotFound)
	expectNewUsers(t, other.get("/access/client-access"), 0)

	a.startJobs()
	c.header.Set("HX-Request", "true")
	deadline := time.Now().Add(20 * time.Second)
	for {
		r = c.get(poll[1])
		expectStatus(t, r, http.StatusOK)
		if r.Header.Get("HX-Refresh") == "true" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run never finished: %s", snippet(r.body))
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.header.Del("HX-Request")
	if m := runStatusRE.FindStringSubmatch(r.body); m == nil || m[1] != "done" || strings.Contains(r.body, "hx-trigger") {
		t.Fatalf("finished fragment: %s", snippet(r.body))
	}
	expectBody(t, r, "6 of 6 codes generated (100%)")

	r = c.get("/access/client-access")
	expectNewUsers(t, r, 0)
	expectBody(t, r, `data-testid="run-download-codes"`)
	for i, u := range us {
		cs := a.userCodes(boss.AccountID, u.ID)
		switch {
		case i < 6:
			if len(cs) != 1 || cs[0].GeneratedBy != models.GeneratedByBulk || cs[0].State(a.clock()) != models.CodeActive {
				t.Fatalf("user %d: %+v", i, cs)
			}
		case i == 6:
			if len(cs) != 1 || cs[0].GeneratedBy != models.GeneratedByAdmin {
				t.Fatalf("the user who had a code: %+v", cs)
			}
		default:
			if len(cs) != 0 {
				t.Fatal("a disabled user got a code")
			}
		}
	}
	if n := a.eventCount(models.SubCodeGenerated); n != 7 {
		t.Fatalf("%d Generated events", n)
	}
	// A second run has nothing to do.
	r = c.post("/access/client-access/generate-codes", nil)
	expectStatus(t, r, http.StatusSeeOther)
	expectBody(t, c.get("/access/client-access"), "there is nothing to generate")
	expectStatus(t, c.post("/access/client-access/generate-codes", url.Values{"confirm": {"1"}}), http.StatusSeeOther)
	if n := a.eventCount(models.SubCodeGenerated); n != 7 {
		t.Fatalf("a second run generated codes (%d events)", n)
	}
}

func TestHelpdeskAndCodes(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.createAdmin("acme", "help@example.com", models.RoleHelpdesk)
	us := a.seedUsers(boss.AccountID, 2, nil)
	c := a.client()
	c.signIn("help@example.com")
	r := c.get("/access/users")
	expectBody(t, r, `data-testid="action-generate_code"`)
	if strings.Contains(r.body, `href="/access/client-access"`) {
		t.Error("helpdesk is offered Client Access")
	}
	// Helpdesk staff generate codes for selected users…
	id := fmt.Sprint(us[0].ID)
	r = c.post("/access/users/actions", url.Values{"action": {"generate_code"}, "ids": {id}})
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, "A new registration code will be generated for this user")
	r = c.post("/access/users/actions", url.Values{"action": {"generate_code"}, "ids": {id}, "confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	expectBody(t, c.get(r.Header.Get("Location")), "Generated a registration code for 1 user.")
	if cs := a.userCodes(boss.AccountID, us[0].ID); len(cs) != 1 || cs[0].AdminEmail != "help@example.com" {
		t.Fatalf("codes %+v", cs)
	}
	// …but neither for all new users nor the CSV of every code.
	expectStatus(t, c.get("/access/client-access"), http.StatusForbidden)
	expectStatus(t, c.post("/access/client-access/generate-codes", nil), http.StatusForbidden)
	expectStatus(t, c.post("/access/client-access/generate-codes", url.Values{"confirm": {"1"}}), http.StatusForbidden)
	r = c.get("/access/directory-services/provisioning/codes.csv")
	expectStatus(t, r, http.StatusForbidden)
	if strings.Contains(r.body, "Registration Code") || r.Header.Get("Content-Disposition") != "" {
		t.Fatalf("helpdesk got the CSV: %s", snippet(r.body))
	}
	if n := a.eventCount(models.SubCodesDownload); n != 0 {
		t.Fatalf("%d downloads", n)
	}
}

func TestCodesCSV(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, 6, func(i int, u *models.SDPUser) {
		switch i {
		case 0:
			u.FirstName, u.LastName = "=cmd|' /C calc'!A0", "Smith, \"Jr\""
		case 1:
			u.FirstName, u.LastName = "-2+3", "@sum"
		}
	})
	ids := make([]int64, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	if _, err := a.Codes.GenerateForUsers(t.Context(), boss, "", ids); err != nil {
		t.Fatal(err)
	}
	now := a.clock()
	exec := func(q string, args ...any) {
		err := a.store.Tx(t.Context(), func(tx *store.Store) error {
			sqlTx, _ := tx.SQLTx()
			_, err := sqlTx.Exec(q, args...)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	code := func(i int) store.UserCode { return a.userCodes(boss.AccountID, us[i].ID)[0] }
	exec("UPDATE registration_codes SET used_at = $1, encrypted = '' WHERE id = $2", now, code(3).ID)
	exec("UPDATE registration_codes SET revoked_at = $1, encrypted = '' WHERE id = $2", now, code(4).ID)
	exec("UPDATE registration_codes SET expires_at = $1 WHERE id = $2", now.Add(-time.Minute), code(5).ID)

	c := a.client()
	c.signIn("boss@example.com")
	r := c.get("/access/directory-services/provisioning")
	expectBody(t, r, `data-testid="download-codes"`)
	expectBody(t, r, `href="/access/directory-services/provisioning/codes.csv"`)

	r = c.get("/access/directory-services/provisioning/codes.csv")
	expectStatus(t, r, http.StatusOK)
	for k, want := range map[string]string{"Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store"} {
		if got := r.Header.Get(k); got != want {
			t.Fatalf("%s: %q", k, got)
		}
	}
	if d := r.Header.Get("Content-Disposition"); !dispositonRE.MatchString(d) || !strings.Contains(d, now.Format("2006-01-02")) {
		t.Fatalf("Content-Disposition: %q", d)
	}
	if !strings.HasPrefix(r.body, "First Name,Last Name,Email,Registration Code,Expires At\r\n") {
		t.Fatalf("header: %q", snippet(r.body))
	}
	rows := csvRows(t, r.body)
	if len(rows) != 1+3 {
		t.Fatalf("%d rows:\n%s", len(rows), r.body)
	}
	// Formula triggers are neutralised; quotes and commas survive RFC 4180 quoting.
	if rows[1][0] != "'=cmd|' /C calc'!A0" || rows[1][1] != `Smith, "Jr"` || rows[2][0] != "'-2+3" || rows[2][1] != "'@sum" {
		t.Fatalf("cells: %q %q", rows[1], rows[2])
	}
	if !strings.Contains(r.body, `"Smith, ""Jr"""`) {
		t.Fatalf("quoting: %s", r.body)
	}
	codeRE := regexp.MustCompile(`^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$`)
	for i, row := range rows[1:] {
		cd := code(i)
		if row[2] != us[i].Email || row[3] != codes.Format(a.codeText(cd)) || !codeRE.MatchString(row[3]) {
			t.Fatalf("row %d: %q", i, row)
		}
		if exp, err := time.Parse(time.RFC3339, row[4]); err != nil || !strings.HasSuffix(row[4], "Z") || exp.Unix() != cd.ExpiresAt.Unix() {
			t.Fatalf("row %d expires %q (%v)", i, row[4], err)
		}
	}
	for _, gone := range us[3:] {
		if strings.Contains(r.body, gone.Email) {
			t.Fatalf("%s (used, revoked or expired) is listed", gone.Email)
		}
	}
	// The download is an event: who, how many rows.
	evs, _ := a.store.RecentEvents(t.Context(), boss.AccountID, 5)
	if len(evs) == 0 || evs[0].SubType != models.SubCodesDownload || evs[0].ActorLabel != "boss@example.com" || !strings.Contains(evs[0].Details, `"rows":"3"`) {
		t.Fatalf("latest event %+v", evs[0])
	}
}

func TestGenerateCodeActionAndUserPage(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, 3, func(i int, u *models.SDPUser) {
		if i == 2 {
			u.Status = models.UserDisabled
		}
	})
	c := a.client()
	c.signIn("boss@example.com")
	c.get("/access/users")
	form := url.Values{"action": {"generate_code"}, "all_matching": {"1"}}
	r := c.post("/access/users/actions", form)
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, "Generate registration code: 3 users?")
	expectBody(t, r, "A new registration code will be generated for each enabled user among these 3 users")
	expectBody(t, r, "Codes expire after 7 days")
	form.Set("confirm", "1")
	r = c.post("/access/users/actions", form)
	expectStatus(t, r, http.StatusSeeOther)
	expectBody(t, c.get(r.Header.Get("Location")), "Generated a registration code for 2 users. 1 skipped: disabled.")
	// Once more for user 0 (a second device): two codes.
	expectStatus(t, c.post("/access/users/actions", url.Values{"action": {"generate_code"}, "ids": {fmt.Sprint(us[0].ID)}, "back": {"user"}, "confirm": {"1"}}),
		http.StatusSeeOther)
	if u := a.user(boss.AccountID, us[0].ID); u.ActiveCodes != 2 || !u.HadCode {
		t.Fatalf("counters %d %v", u.ActiveCodes, u.HadCode)
	}

	r = c.get(fmt.Sprintf("/access/users/%d", us[0].ID))
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="user-codes"`)
	if n := strings.Count(r.body, `data-testid="code-row" data-state="active"`); n != 2 {
		t.Fatalf("%d active code rows", n)
	}
	expectBody(t, r, "Admin · boss@example.com")
	expectBody(t, r, "Registration Code · Generated")
	for _, cd := range a.userCodes(boss.AccountID, us[0].ID) {
		text := a.codeText(cd)
		if strings.Contains(r.body, text) || strings.Contains(r.body, codes.Format(text)) {
			t.Fatal("the user page shows a code")
		}
	}
	if r := c.get(fmt.Sprintf("/access/users/%d", us[2].ID)); !strings.Contains(r.body, "No registration code yet") {
		t.Fatal("the disabled user's page lists codes")
	}
	// Expired codes show as such once their time has passed; the expiry job wipes their copies.
	a.advance(7*24*time.Hour + time.Second)
	n, err := a.Codes.ExpireCodes(t.Context())
	if err != nil || n != 3 {
		t.Fatalf("expired %d %v", n, err)
	}
	for _, cd := range a.userCodes(boss.AccountID, us[0].ID) {
		if cd.Encrypted != "" {
			t.Fatal("an expired code keeps its encrypted copy")
		}
	}
	if u := a.user(boss.AccountID, us[0].ID); u.ActiveCodes != 0 {
		t.Fatalf("active codes %d after expiry", u.ActiveCodes)
	}
	c = a.client() // the week also ended the session
	c.signIn("boss@example.com")
	r = c.get(fmt.Sprintf("/access/users/%d", us[0].ID))
	if n := strings.Count(r.body, `data-state="expired"`); n != 2 {
		t.Fatalf("%d expired rows", n)
	}
}

func TestResetPasswordRevokesCodes(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, 2, nil)
	for range 2 {
		if _, err := a.Codes.GenerateForUsers(t.Context(), boss, "", []int64{us[0].ID, us[1].ID}); err != nil {
			t.Fatal(err)
		}
	}
	c := a.client()
	c.signIn("boss@example.com")
	if rows := csvRows(t, c.get("/access/directory-services/provisioning/codes.csv").body); len(rows) != 1+4 {
		t.Fatalf("%d rows before the reset", len(rows))
	}
	c.get("/access/users")
	r := c.post("/access/users/actions", url.Values{"action": {"reset_password"}, "ids": {fmt.Sprint(us[0].ID)}})
	expectBody(t, r, "their registration codes revoked")
	r = c.post("/access/users/actions", url.Values{"action": {"reset_password"}, "ids": {fmt.Sprint(us[0].ID)}, "confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	if n := a.eventCount(models.SubCodeRevoked); n != 2 {
		t.Fatalf("%d Revoked events", n)
	}
	cs := a.userCodes(boss.AccountID, us[0].ID)
	if len(cs) != 2 {
		t.Fatalf("reset generated codes: %d", len(cs))
	}
	for _, cd := range cs {
		if cd.State(a.clock()) != models.CodeRevoked || cd.Encrypted != "" {
			t.Fatalf("code %d: %s", cd.ID, cd.State(a.clock()))
		}
	}
	if u := a.user(boss.AccountID, us[0].ID); u.ActiveCodes != 0 {
		t.Fatalf("active codes %d", u.ActiveCodes)
	}
	rows := csvRows(t, c.get("/access/directory-services/provisioning/codes.csv").body)
	if len(rows) != 1+2 || rows[1][2] != us[1].Email || rows[2][2] != us[1].Email {
		t.Fatalf("CSV after the reset: %q", rows)
	}
	r = c.get(fmt.Sprintf("/access/users/%d", us[0].ID))
	if n := strings.Count(r.body, `data-state="revoked"`); n != 2 {
		t.Fatalf("%d revoked rows", n)
	}
	expectBody(t, r, "Registration Code · Revoked")
}
