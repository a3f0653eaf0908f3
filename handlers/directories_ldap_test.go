package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"onramp/models"
	"onramp/models/directory/ldaptest"
)

const ldapList = "/access/directory-services/directories"

func ldapSeed() string {
	var b strings.Builder
	for _, uid := range []string{"ann", "bob", "cid", "dee"} {
		b.WriteString(ldaptest.Person(uid, strings.ToUpper(uid[:1])+uid[1:], "Tester", uid+"@example.test", "telephoneNumber: +1 555 0100"))
	}
	b.WriteString(ldaptest.Person("old", "Old", "Gone", "old@example.test", "employeeType: disabled"))
	return b.String()
}

// ldapForm is the New LDAP directory form filled in for the test slapd. It binds as the
// manager: the reader account is held to pages of 3 entries, and a page of 500 is refused.
func ldapForm(s *ldaptest.Slapd, name string) url.Values {
	return url.Values{
		"name": {name}, "preset": {"openldap"}, "url": {s.URL}, "bind_dn": {ldaptest.ManagerDN},
		"password": {ldaptest.Password}, "base_dn": {ldaptest.PeopleDN},
		"attr_id": {"entryUUID"}, "attr_email": {"mail"}, "attr_first_name": {"givenName"}, "attr_last_name": {"sn"},
		"attr_phone": {"telephoneNumber"}, "disabled_attr": {"employeeType"}, "disabled_value": {"disabled"},
		"schedule_hours": {"0"}, "limit_count": {"10"}, "limit_percent": {"10"},
	}
}

// createLDAP creates an LDAP directory through the form and returns its id.
func createLDAP(t *testing.T, a *testApp, c *client, form url.Values) int {
	t.Helper()
	c.get(ldapList + "/ldap/new?preset=openldap")
	r := c.post(ldapList+"/ldap", form)
	expectStatus(t, r, http.StatusSeeOther)
	id := a.countSQL("SELECT id FROM directories WHERE name = ?", form.Get("name"))
	if want := ldapList + "/" + strconv.Itoa(id) + "/edit"; r.Header.Get("Location") != want {
		t.Fatalf("after create: %s, want %s", r.Header.Get("Location"), want)
	}
	return id
}

// TestLDAPDirectoryForm: an admin creates an LDAP directory with the form (every field checked,
// names unique in any case, for SCIM too), edits it (an empty password keeps the stored one),
// and Test connection against a real slapd counts the users and shows three as they would be
// imported; a wrong password and an unreachable server are explained. Helpdesk gets 403 and
// another account's directory 404; the password never shows on a page or in an event.
func TestLDAPDirectoryForm(t *testing.T) {
	s := ldaptest.StartSlapd(t, ldapSeed())
	a := newApp(t)
	a.createAdmin("acme", "boss@acme.example", models.RoleAdmin)
	a.createAdmin("acme", "help@acme.example", models.RoleHelpdesk)
	a.createAdmin("other", "boss@other.example", models.RoleAdmin)
	c := a.client()
	c.signIn("boss@acme.example")

	r := c.get(ldapList)
	expectBody(t, r, `data-testid="new-ldap-ad"`)
	r = c.get(ldapList + "/ldap/new?preset=ad")
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `value="objectGUID"`)
	expectBody(t, r, `placeholder="(&amp;(objectCategory=person)(objectClass=user))"`)
	expectBody(t, r, `data-testid="skip-verify-warning"`)
	expectBody(t, c.get(ldapList+"/ldap/new?preset=openldap"), `value="entryUUID"`)

	bad := ldapForm(s, "Corp")
	for k, v := range map[string]string{"url": "http://dc.example.com", "ca_pem": "not a certificate", "bind_dn": "reader",
		"password": "", "user_filter": "(&(objectClass=user)", "limit_percent": "101", "limit_count": "ten", "schedule_hours": "-1",
		"disabled_value": ""} {
		bad.Set(k, v)
	}
	r = c.post(ldapList+"/ldap", bad)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	for _, f := range []string{"url", "ca_pem", "bind_dn", "password", "user_filter", "limit_percent", "limit_count", "schedule_hours", "disabled_value"} {
		expectBody(t, r, `data-testid="error-`+f+`"`)
	}
	expectBody(t, r, `value="(&amp;(objectClass=user)"`) // what was typed is kept
	if n := a.countSQL("SELECT COUNT(*) FROM directories"); n != 0 {
		t.Fatalf("a bad form created %d directories", n)
	}
	tls := ldapForm(s, "Corp")
	tls.Set("url", s.LDAPSURL)
	tls.Set("start_tls", "on")
	r = c.post(ldapList+"/ldap", tls)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, `data-testid="error-start_tls"`)

	id := createLDAP(t, a, c, ldapForm(s, "Corp"))
	if a.eventCount(models.SubDirectoryCreated) != 1 {
		t.Fatal("no Directory / Created event")
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE details LIKE ?", "%"+ldaptest.Password+"%"); n != 0 {
		t.Fatal("an event holds the bind password")
	}
	if n := a.countSQL("SELECT COUNT(*) FROM directory_ldap WHERE password_sealed LIKE ?", "%"+ldaptest.Password+"%"); n != 0 {
		t.Fatal("the bind password is stored in clear")
	}
	// The same name, in any case, is refused for LDAP and for SCIM alike (no token added).
	r = c.post(ldapList+"/ldap", ldapForm(s, "corp"))
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, "already has a directory named Corp")
	c.get(ldapList)
	r = c.post(ldapList, url.Values{"name": {"CORP"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, `data-testid="error-name"`)
	c.get(ldapList)
	expectStatus(t, c.post(ldapList, url.Values{"name": {"Okta"}}), http.StatusOK)
	c.get(ldapList)
	r = c.post(ldapList, url.Values{"name": {"Okta"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if n := a.countSQL("SELECT COUNT(*) FROM directory_tokens"); n != 1 {
		t.Fatalf("a SCIM directory created twice has %d tokens", n)
	}

	dir := ldapList + "/" + strconv.Itoa(id)
	r = c.get(dir + "/edit")
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="test-connection"`)
	if strings.Contains(r.body, ldaptest.Password) {
		t.Fatal("the edit page shows the bind password")
	}
	r = c.post(dir+"/test", nil)
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="test-ok"`)
	expectBody(t, r, `data-testid="test-total">5<`)
	if n := strings.Count(r.body, `data-testid="test-sample"`); n != 3 {
		t.Fatalf("%d sample users, want 3: %s", n, snippet(r.body))
	}
	expectBody(t, r, "@example.test")
	c.header.Set("HX-Request", "true")
	r = c.post(dir+"/test", nil)
	c.header.Del("HX-Request")
	expectBody(t, r, `data-testid="test-ok"`)
	if strings.Contains(r.body, "<html") {
		t.Fatal("the htmx answer is a whole page")
	}

	// An edit with an empty password keeps the stored one (the test still binds).
	edit := ldapForm(s, "ignored")
	edit.Set("password", "")
	edit.Set("group_dn", "not a dn")
	c.get(dir + "/edit")
	r = c.post(dir+"/edit", edit)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, `data-testid="error-group_dn"`)
	edit.Set("group_dn", "")
	edit.Set("limit_count", "25")
	r = c.post(dir+"/edit", edit)
	expectStatus(t, r, http.StatusSeeOther)
	if a.countSQL("SELECT limit_count FROM directory_ldap WHERE directory_id = ?", id) != 25 ||
		a.countSQL("SELECT COUNT(*) FROM directories WHERE name = 'Corp'") != 1 {
		t.Fatal("the edit was not saved, or renamed the directory")
	}
	if a.countSQL("SELECT COUNT(*) FROM events WHERE sub_type = ? AND details LIKE ?", models.SubDirectoryUpdated, "%10 → 25%") != 1 {
		t.Fatal("no Directory / Settings Changed event with the change")
	}
	expectBody(t, c.post(dir+"/test", nil), `data-testid="test-ok"`)

	edit.Set("password", "wrong-password")
	c.post(dir+"/edit", edit)
	r = c.post(dir+"/test", nil)
	expectBody(t, r, `data-problem="credentials"`)
	if strings.Contains(r.body, "wrong-password") {
		t.Fatal("the page shows the password")
	}
	edit.Set("url", "ldap://127.0.0.1:1")
	c.post(dir+"/edit", edit)
	expectBody(t, c.post(dir+"/test", nil), `data-problem="unreachable"`)
	edit.Set("url", s.LDAPSURL)
	c.post(dir+"/edit", edit)
	expectBody(t, c.post(dir+"/test", nil), `data-problem="tls"`)
	edit.Set("password", ldaptest.Password)
	edit.Set("ca_pem", string(s.CAPEM))
	expectStatus(t, c.post(dir+"/edit", edit), http.StatusSeeOther)
	expectBody(t, c.post(dir+"/test", nil), `data-testid="test-ok"`)
	edit.Set("skip_verify", "on")
	c.post(dir+"/edit", edit)
	expectBody(t, c.get(dir+"/edit"), "The CA certificate above is not used while verification is skipped.")

	scimID := a.countSQL("SELECT id FROM directories WHERE name = 'Okta'")
	expectStatus(t, c.get(ldapList+"/"+strconv.Itoa(scimID)+"/edit"), http.StatusNotFound)
	o := a.client()
	o.signIn("boss@other.example")
	expectStatus(t, o.get(dir+"/edit"), http.StatusNotFound)
	o.get(ldapList)
	expectStatus(t, o.post(dir+"/test", nil), http.StatusNotFound)
	expectStatus(t, o.post(dir+"/edit", ldapForm(s, "x")), http.StatusNotFound)
	h := a.client()
	h.signIn("help@acme.example")
	expectStatus(t, h.get(ldapList+"/ldap/new"), http.StatusForbidden)
	expectStatus(t, h.get(dir+"/edit"), http.StatusForbidden)
	expectStatus(t, h.post(dir+"/test", nil), http.StatusForbidden)
	expectStatus(t, h.post(ldapList+"/ldap", ldapForm(s, "Help")), http.StatusForbidden)
}

var syncStatusRE = regexp.MustCompile(`data-testid="sync" data-status="([a-z]+)"`)

// waitSync polls a sync page (as htmx does) until the sync ends and returns the final page.
func waitSync(t *testing.T, c *client, path string) response {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		r := c.get(path)
		expectStatus(t, r, http.StatusOK)
		m := syncStatusRE.FindStringSubmatch(r.body)
		if m == nil {
			t.Fatalf("no sync status on %s: %s", path, snippet(r.body))
		}
		if m[1] != "queued" && m[1] != "running" {
			return r
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the sync at %s did not end", path)
	return response{}
}

// TestLDAPSyncFromTheConsole: end to end against a real slapd: the directory created with the
// form, Test connection, Sync now (a background job; its page polls), users arrive with the
// origin directory:<name>; users removed from the directory beyond the safety limit stop the
// next sync, the tab offers Approve and sync behind a confirmation naming the numbers, and the
// approved sync applies the change.
func TestLDAPSyncFromTheConsole(t *testing.T) {
	s := ldaptest.StartSlapd(t, ldapSeed())
	a := newApp(t)
	a.startJobs()
	a.createAdmin("acme", "boss@acme.example", models.RoleAdmin)
	a.createAdmin("other", "boss@other.example", models.RoleAdmin)
	c := a.client()
	c.signIn("boss@acme.example")
	id := createLDAP(t, a, c, ldapForm(s, "Corp"))
	dir := ldapList + "/" + strconv.Itoa(id)
	c.get(dir + "/edit")
	expectBody(t, c.post(dir+"/test", nil), `data-testid="test-total">5<`)

	expectBody(t, c.get(ldapList), `data-testid="sync-now"`)
	r := c.post(dir+"/sync", nil)
	expectStatus(t, r, http.StatusSeeOther)
	syncPage := r.Header.Get("Location")
	if !strings.HasPrefix(syncPage, dir+"/syncs/") {
		t.Fatalf("Sync now went to %s", syncPage)
	}
	c.header.Set("HX-Request", "true")
	poll := c.get(syncPage)
	c.header.Del("HX-Request")
	if strings.Contains(poll.body, "<html") || !strings.Contains(poll.body, `data-testid="sync"`) {
		t.Fatalf("the htmx poll is not the progress block: %s", snippet(poll.body))
	}
	r = waitSync(t, c, syncPage)
	expectBody(t, r, `data-status="done"`)
	expectBody(t, r, "5 created")
	if n := a.countSQL("SELECT COUNT(*) FROM sdp_users WHERE origin = 'directory:Corp'"); n != 5 {
		t.Fatalf("%d users with origin directory:Corp, want 5", n)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM sdp_users WHERE email = 'old@example.test' AND status = 'disabled'"); n != 1 {
		t.Fatal("the user with employeeType=disabled was not imported disabled")
	}
	list := c.get(ldapList)
	expectBody(t, list, "Last sync: 5 created")
	expectBody(t, list, `data-testid="last-sync"`)
	expectBody(t, c.get("/access/users?origin="+url.QueryEscape("directory:Corp")), "ann@example.test")

	// Two of five users leave the directory: over 10%, the next sync stops and changes nothing.
	admin, err := goldap.DialURL(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.Bind(ldaptest.ManagerDN, ldaptest.Password); err != nil {
		t.Fatal(err)
	}
	for _, uid := range []string{"ann", "bob"} {
		if err := admin.Del(goldap.NewDelRequest("uid="+uid+","+ldaptest.PeopleDN, nil)); err != nil {
			t.Fatal(err)
		}
	}
	c.get(ldapList)
	r = waitSync(t, c, c.post(dir+"/sync", nil).Header.Get("Location"))
	expectBody(t, r, `data-status="blocked"`)
	expectBody(t, r, `data-testid="approve-sync"`)
	if n := a.countSQL("SELECT COUNT(*) FROM sdp_users WHERE origin = 'directory:Corp' AND status = 'enabled'"); n != 4 {
		t.Fatalf("a blocked sync changed users: %d enabled", n)
	}
	list = c.get(ldapList)
	expectBody(t, list, `data-testid="approve-sync"`)
	expectBody(t, list, "Safety limit")

	confirm := c.post(dir+"/approve", nil)
	expectStatus(t, confirm, http.StatusOK)
	expectBody(t, confirm, `data-testid="confirm-page"`)
	expectBody(t, confirm, "(2 in all)")
	o := a.client()
	o.signIn("boss@other.example")
	o.get(ldapList)
	expectStatus(t, o.post(dir+"/approve", url.Values{"confirm": {"1"}}), http.StatusNotFound)
	expectStatus(t, o.post(dir+"/sync", nil), http.StatusNotFound)
	expectStatus(t, o.get(syncPage), http.StatusNotFound)

	r = c.post(dir+"/approve", url.Values{"confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	r = waitSync(t, c, r.Header.Get("Location"))
	expectBody(t, r, `data-status="done"`)
	if strings.Contains(r.body, `data-testid="approve-sync"`) {
		t.Fatal("an approved sync still offers approval")
	}
	if n := a.countSQL("SELECT COUNT(*) FROM sdp_users WHERE email IN ('ann@example.test', 'bob@example.test') AND status = 'enabled'"); n != 0 {
		t.Fatalf("the approved sync left %d of the removed users enabled", n)
	}
	edit := c.get(dir + "/edit")
	if n := strings.Count(edit.body, `data-testid="sync-row"`); n != 3 {
		t.Fatalf("%d recent syncs on the edit page, want 3", n)
	}
	checkTableHeaders(t, "edit", edit.body)
	checkTableHeaders(t, "tab", c.get(ldapList).body)
	checkTableHeaders(t, "sync", r.body)
	checkTableHeaders(t, "test", c.post(dir+"/test", nil).body)
	// Approving again is refused: the latest sync was not stopped.
	c.get(ldapList)
	r = c.post(dir+"/approve", nil)
	expectStatus(t, r, http.StatusSeeOther)
	expectBody(t, c.get(r.Header.Get("Location")), "nothing to approve")
}
