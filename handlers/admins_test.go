package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"onramp/models"
)

func TestHelpdeskCannotManageAdmins(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.createAdmin("acme", "help@example.com", models.RoleHelpdesk)
	c := a.client()
	c.signIn("help@example.com")
	r := c.get("/settings/administrators")
	expectStatus(t, r, http.StatusForbidden)
	expectBody(t, r, "Not allowed")
	expectStatus(t, c.post("/settings/administrators", url.Values{"email": {"x@example.com"}, "name": {"X"}, "role": {"admin"}}), http.StatusForbidden)
	expectStatus(t, c.post(fmt.Sprintf("/settings/administrators/%d/disable", boss.ID), url.Values{"confirm": {"1"}}), http.StatusForbidden)
	// The navigation does not offer what the role cannot open.
	r = c.get("/")
	if strings.Contains(r.body, "/settings/administrators") {
		t.Error("helpdesk navigation links to Administrators")
	}
}

var linkRE = regexp.MustCompile(`http://onramp\.test(/set-password/[A-Za-z0-9_-]+)`)

func TestAddAdminWithSetPasswordLink(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	c := a.client()
	c.signIn("boss@example.com")
	r := c.get("/settings/administrators")
	expectStatus(t, r, http.StatusOK)

	r = c.post("/settings/administrators", url.Values{"email": {"not-an-email"}, "name": {""}, "role": {"helpdesk"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, `data-testid="error-email"`)
	expectBody(t, r, `data-testid="error-name"`)
	expectBody(t, r, `value="not-an-email"`)

	r = c.post("/settings/administrators", url.Values{"email": {"Boss@example.com"}, "name": {"Dup"}, "role": {"helpdesk"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, "An administrator with this email already exists in this account.")

	r = c.post("/settings/administrators", url.Values{"email": {"Hal@Example.com"}, "name": {"Hal Desk"}, "role": {"helpdesk"}})
	expectStatus(t, r, http.StatusOK)
	m := linkRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no set-password link shown:\n%s", snippet(r.body))
	}
	link := m[1]
	r = c.get("/settings/administrators")
	expectBody(t, r, "hal@example.com")
	expectBody(t, r, "Password not set")
	if strings.Contains(r.body, link) {
		t.Fatal("the link is shown again on the list")
	}

	// Hal cannot sign in before choosing a password.
	hal := a.client()
	hal.get("/login")
	expectStatus(t, hal.post("/login", url.Values{"email": {"hal@example.com"}, "password": {""}}), http.StatusUnauthorized)

	r = hal.get(link)
	expectStatus(t, r, http.StatusOK)
	if r.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Error("set-password page leaks its token in Referer")
	}
	expectBody(t, r, "hal@example.com")
	r = hal.post(link, url.Values{"password": {"short"}, "password_confirm": {"short"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, "at least 12 characters")
	r = hal.post(link, url.Values{"password": {"password1234"}, "password_confirm": {"password1234"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, "too easy to guess")
	r = hal.post(link, url.Values{"password": {testPassword}, "password_confirm": {testPassword}})
	expectStatus(t, r, http.StatusSeeOther)
	expectStatus(t, hal.get(link), http.StatusGone)
	hal.signIn("hal@example.com")
	expectStatus(t, hal.get("/settings/administrators"), http.StatusForbidden)
}

func TestNewPasswordLinkKillsOlder(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	c := a.client()
	c.signIn("boss@example.com")
	c.get("/settings/administrators")
	r := c.post("/settings/administrators", url.Values{"email": {"hal@example.com"}, "name": {"Hal"}, "role": {"helpdesk"}})
	first := linkRE.FindStringSubmatch(r.body)[1]
	var halID int64
	page, _ := a.Admins.List(t.Context(), boss, 0)
	for _, ad := range page.Admins {
		if ad.Email == "hal@example.com" {
			halID = ad.ID
		}
	}
	path := fmt.Sprintf("/settings/administrators/%d/link", halID)
	r = c.post(path, nil)
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="confirm-page"`)
	r = c.post(path, url.Values{"confirm": {"1"}})
	expectStatus(t, r, http.StatusOK)
	second := linkRE.FindStringSubmatch(r.body)[1]
	if second == first {
		t.Fatal("the same link twice")
	}
	expectStatus(t, a.client().get(first), http.StatusGone)
	expectStatus(t, a.client().get(second), http.StatusOK)
}

func TestDisableAdminWithConfirmation(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	bob := a.createAdmin("acme", "bob@example.com", models.RoleAdmin)
	bobC := a.client()
	bobC.signIn("bob@example.com")

	c := a.client()
	c.signIn("boss@example.com")
	c.get("/settings/administrators")
	path := fmt.Sprintf("/settings/administrators/%d/disable", bob.ID)

	// Without JavaScript: a warning page; nothing changes yet.
	r := c.post(path, nil)
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="confirm-page"`)
	expectBody(t, r, "signed out everywhere")
	// With htmx: the same warning as a dialog fragment.
	c.header.Set("HX-Request", "true")
	r = c.post(path, nil)
	c.header.Del("HX-Request")
	expectStatus(t, r, http.StatusOK)
	if !strings.HasPrefix(strings.TrimSpace(r.body), "<dialog") {
		t.Fatalf("htmx warning is not a dialog:\n%s", snippet(r.body))
	}
	expectStatus(t, bobC.get("/"), http.StatusOK)

	r = c.post(path, url.Values{"confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	r = c.get("/settings/administrators")
	expectBody(t, r, "is disabled and signed out")
	// Bob's session ended at once.
	expectStatus(t, bobC.get("/"), http.StatusSeeOther)
	if n := a.eventCount(models.SubAdminDisabled); n != 1 {
		t.Fatalf("%d disable events", n)
	}

	r = c.post(fmt.Sprintf("/settings/administrators/%d/enable", bob.ID), url.Values{"confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	bobC.signIn("bob@example.com")
}

func TestLastAdminStays(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	help := a.createAdmin("acme", "help@example.com", models.RoleHelpdesk)
	c := a.client()
	c.signIn("boss@example.com")
	c.get("/settings/administrators")

	// Nobody acts on themselves through the page.
	expectStatus(t, c.post(fmt.Sprintf("/settings/administrators/%d/disable", boss.ID), url.Values{"confirm": {"1"}}), http.StatusForbidden)

	// Promote helpdesk, then demote the boss through the service as the new admin: fine.
	r := c.post(fmt.Sprintf("/settings/administrators/%d/role", help.ID), url.Values{"role": {"admin"}, "confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	if _, err := a.Admins.SetRole(t.Context(), help, "", boss.ID, models.RoleHelpdesk); err != nil {
		t.Fatal(err)
	}
	// Now help is the last admin: the boss (helpdesk) cannot be the one left, and help cannot be demoted or disabled.
	if _, err := a.Admins.SetRole(t.Context(), help, "", help.ID, models.RoleHelpdesk); err == nil {
		t.Fatal("the last admin was demoted")
	}
	if _, err := a.Admins.SetDisabled(t.Context(), help, "", help.ID, true); err == nil {
		t.Fatal("the last admin was disabled")
	}
	c.signIn("boss@example.com")
	expectStatus(t, c.get("/settings/administrators"), http.StatusForbidden)
}

func TestAdminsCannotDisableEachOtherAtOnce(t *testing.T) {
	t.Parallel()
	for round := 0; round < 5; round++ {
		a := newApp(t)
		x := a.createAdmin("acme", "x@example.com", models.RoleAdmin)
		y := a.createAdmin("acme", "y@example.com", models.RoleAdmin)
		errs := make(chan error, 2)
		go func() { _, err := a.Admins.SetDisabled(t.Context(), x, "", y.ID, true); errs <- err }()
		go func() { _, err := a.Admins.SetDisabled(t.Context(), y, "", x.ID, true); errs <- err }()
		e1, e2 := <-errs, <-errs
		if (e1 == nil) == (e2 == nil) {
			t.Fatalf("round %d: both or neither succeeded: %v / %v", round, e1, e2)
		}
		n, err := a.store.CountActiveAdmins(t.Context(), x.AccountID)
		if err != nil || n != 1 {
			t.Fatalf("round %d: %d active admins left (%v)", round, n, err)
		}
	}
}

func TestAdminIDsAreScopedToTheAccount(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.createAdmin("globex", "hank@globex.example", models.RoleAdmin)
	victim := a.createAdmin("globex", "mona@globex.example", models.RoleAdmin)
	c := a.client()
	c.signIn("boss@example.com")
	c.get("/settings/administrators")
	for _, action := range []string{"disable", "role", "link"} {
		r := c.post(fmt.Sprintf("/settings/administrators/%d/%s", victim.ID, action), url.Values{"confirm": {"1"}, "role": {"helpdesk"}})
		expectStatus(t, r, http.StatusNotFound)
	}
	r := c.get("/settings/administrators")
	if strings.Contains(r.body, "globex") {
		t.Fatal("another account's admins are listed")
	}
	got, err := a.store.AdminByID(t.Context(), victim.ID)
	if err != nil || got.Status != models.AdminActive || got.Role != models.RoleAdmin {
		t.Fatalf("victim changed: %+v %v", got, err)
	}
}

func TestAdminsPagination(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	for i := 0; i < 55; i++ {
		if _, _, err := a.Admins.Add(t.Context(), boss, "", addInput(i)); err != nil {
			t.Fatal(err)
		}
	}
	c := a.client()
	c.signIn("boss@example.com")
	r := c.get("/settings/administrators")
	if n := strings.Count(r.body, `data-testid="admin-row"`); n != 50 {
		t.Fatalf("first page has %d rows", n)
	}
	m := regexp.MustCompile(`href="(/settings/administrators\?after=\d+)"[^>]*data-testid="next-page"`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatal("no next-page link")
	}
	r = c.get(m[1])
	if n := strings.Count(r.body, `data-testid="admin-row"`); n != 6 {
		t.Fatalf("second page has %d rows", n)
	}
	if strings.Contains(r.body, `data-testid="next-page"`) {
		t.Fatal("a next link on the last page")
	}
}

// An email that is an admin of another account is added like any new email: a refusal, or any
// difference, would tell the adding admin that the address is a console admin elsewhere.
func TestAddingAnAdminOfAnotherAccountLooksLikeANewEmail(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	gus := a.createAdmin("globex", "gus@example.com", models.RoleAdmin)
	globexEvents := a.countSQL("SELECT COUNT(*) FROM events WHERE account_id = ?", gus.AccountID)
	c := a.client()
	c.signIn("boss@example.com")
	c.get("/settings/administrators")
	var pages, events []string
	for _, email := range []string{"gus@example.com", "new@example.com"} {
		r := c.post("/settings/administrators", url.Values{"email": {email}, "name": {"Pat"}, "role": {"helpdesk"}})
		expectStatus(t, r, http.StatusOK)
		pages = append(pages, r.page(email, linkRE.FindStringSubmatch(r.body)[1]))
		var ev struct {
			account                         int64
			typ, sub, actor, label, details string
		}
		if err := a.store.SQLDB().QueryRow(a.rebind("SELECT account_id, type, sub_type, actor_type, actor_label, details FROM events WHERE sub_type = ? AND email = ? AND actor_type = 'admin'"),
			models.SubAdminCreated, email).Scan(&ev.account, &ev.typ, &ev.sub, &ev.actor, &ev.label, &ev.details); err != nil {
			t.Fatalf("the event of adding %s: %v", email, err)
		}
		events = append(events, fmt.Sprint(ev))
	}
	if pages[0] != pages[1] {
		t.Fatalf("adding an admin of another account answers another page:\n%s\n---\n%s", snippet(pages[0]), snippet(pages[1]))
	}
	if events[0] != events[1] {
		t.Fatalf("adding an admin of another account writes another event:\n%s\n%s", events[0], events[1])
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE account_id = ?", gus.AccountID); n != globexEvents {
		t.Fatalf("adding an admin of acme wrote %d events to globex", n-globexEvents)
	}
	r := c.get("/settings/administrators")
	if n := strings.Count(r.body, `data-testid="admin-row"`); n != 3 {
		t.Fatalf("acme lists %d admins, want 3", n)
	}
}
