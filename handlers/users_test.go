package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/jobs"
	"onramp/models/mail"
	"onramp/models/mail/mailtest"
	"onramp/models/runs"
	"onramp/models/secret"
	"onramp/models/store"
	"onramp/models/users"
)

var userLinkRE = regexp.MustCompile(`/access/users/(\d+)`)

func TestCreateUserQueuesInvitation(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	c := a.client()
	c.signIn("boss@example.com")
	r := c.get("/access/users/new")
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, "it is held in the outbox")

	r = c.post("/access/users", url.Values{"first_name": {"Grace"}, "last_name": {""}, "email": {"grace@"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, `data-testid="error-last_name"`)
	expectBody(t, r, `data-testid="error-email"`)
	expectBody(t, r, `value="Grace"`)
	expectBody(t, r, `value="grace@"`)

	r = c.post("/access/users", url.Values{"first_name": {"Grace"}, "last_name": {"Hopper"}, "email": {"Grace.Hopper@Example.com"}})
	expectStatus(t, r, http.StatusSeeOther)
	m := userLinkRE.FindStringSubmatch(r.Header.Get("Location"))
	if m == nil {
		t.Fatalf("redirected to %q", r.Header.Get("Location"))
	}
	r = c.get(r.Header.Get("Location"))
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, "the invitation email is held in the outbox")
	expectBody(t, r, "grace.hopper@example.com")
	expectBody(t, r, "Invitation held")
	expectBody(t, r, "User · Created")
	expectBody(t, r, "User · Invited")
	if links := a.invitationLinks(boss.AccountID, "grace.hopper@example.com"); len(links) != 1 || !strings.HasPrefix(links[0], "http://onramp.test/myvpn/activate/") {
		t.Fatalf("invitations: %v", links)
	}

	// A duplicate, whatever its case, is a field error, not a 500.
	r = c.post("/access/users", url.Values{"first_name": {"G"}, "last_name": {"H"}, "email": {"GRACE.hopper@example.com"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, "already exists")
	// The same email in another account is another user.
	other := a.createAdmin("globex", "hank@globex.example", models.RoleAdmin)
	if _, err := a.Users.Create(t.Context(), other, "", usersInput("grace.hopper@example.com")); err != nil {
		t.Fatal(err)
	}
}

// TestFlashesStayWithinTheCookie: actions whose redirect is never followed queue their
// messages in the cookie; with the longest names in 4-byte characters, 40 of them still leave a
// cookie the next request can carry, which shows the newest few.
func TestFlashesStayWithinTheCookie(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	c := a.client()
	c.signIn("boss@example.com")
	c.get("/access/users/new")
	long := strings.Repeat("𝒜", 98)
	for i := 1; i <= 40; i++ {
		r := c.post("/access/users", url.Values{"first_name": {fmt.Sprintf("%02d", i) + long}, "last_name": {long + "Zz"},
			"email": {fmt.Sprintf("user%02d@example.com", i)}})
		expectStatus(t, r, http.StatusSeeOther)
	}
	r := c.get("/account/password") // a page that lists no user
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, "40"+long)
	if n := strings.Count(r.body, `data-testid="flash"`); n != 3 {
		t.Fatalf("%d flashes shown, want the newest 3", n)
	}
	if strings.Contains(r.body, "37"+long) {
		t.Fatal("an old flash is still shown")
	}
	if strings.Contains(r.body, "Zz is created") {
		t.Fatal("a long flash was not cut")
	}
}

// A change that is committed answers success whatever fails after the commit. Here, with the
// SMTP server down, an admin creates users without following the redirects: the flash of each
// creation is never shown, and the session cookie could not hold the next one. Every creation
// still answers its redirect, and every user and invitation is there.
func TestCommittedCreationAnswersSuccess(t *testing.T) {
	t.Parallel()
	smtp := mailtest.Start(t)
	smtp.Stop()
	a := newApp(t, withSMTP(smtp))
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	c := a.client()
	c.signIn("boss@example.com")
	c.get("/access/users/new")
	const n = 60
	for i := range n {
		email := fmt.Sprintf("new-user-%02d@example.com", i)
		r := c.post("/access/users", url.Values{"first_name": {"Margaret"}, "last_name": {"Hamilton"}, "email": {email}})
		expectStatus(t, r, http.StatusSeeOther)
		if !userLinkRE.MatchString(r.Header.Get("Location")) {
			t.Fatalf("creation %d redirected to %q", i, r.Header.Get("Location"))
		}
		if links := a.invitationLinks(boss.AccountID, email); len(links) != 1 {
			t.Fatalf("creation %d: %d invitations", i, len(links))
		}
	}
	if k := a.countSQL("SELECT COUNT(*) FROM sdp_users WHERE account_id = ?", boss.AccountID); k != n {
		t.Fatalf("%d users for %d creations", k, n)
	}
	expectStatus(t, c.get("/access/users"), http.StatusOK)
}

func TestNoInvitationUnderRegistrationCodeOrOptionOff(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	c := a.client()
	c.signIn("boss@example.com")
	c.get("/access/directory-services/provisioning")
	r := c.post("/access/directory-services/provisioning", url.Values{"method": {"invitation_email"}, "invite_directory": {"on"},
		"notify_disabled": {"on"}, "code_expiry_value": {"7"}, "code_expiry_unit": {"days"}})
	expectStatus(t, r, http.StatusSeeOther)
	created, err := a.Users.Create(t.Context(), boss, "", usersInput("one@example.com"))
	u := created.User
	if err != nil || u.Activation != models.ActivationNew || len(a.invitationLinks(boss.AccountID, "one@example.com")) != 0 {
		t.Fatalf("option 1 off still invited: %+v %v", u, err)
	}
	c.get("/access/directory-services/provisioning")
	r = c.post("/access/directory-services/provisioning", url.Values{"method": {"registration_code"}, "invite_manual": {"on"},
		"code_expiry_value": {"12"}, "code_expiry_unit": {"hours"}})
	expectStatus(t, r, http.StatusSeeOther)
	if _, err := a.Users.Create(t.Context(), boss, "", usersInput("two@example.com")); err != nil || len(a.invitationLinks(boss.AccountID, "two@example.com")) != 0 {
		t.Fatalf("registration code method invited: %v", err)
	}
}

func TestHelpdeskUserPermissions(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.createAdmin("acme", "help@example.com", models.RoleHelpdesk)
	us := a.seedUsers(boss.AccountID, 2, nil)
	c := a.client()
	c.signIn("help@example.com")
	r := c.get("/access/users")
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, "user00000@example.com")
	if strings.Contains(r.body, `data-testid="action-disable"`) || strings.Contains(r.body, `data-testid="new-user"`) {
		t.Error("helpdesk is offered admin-only actions")
	}
	expectStatus(t, c.get("/access/users/new"), http.StatusForbidden)
	expectStatus(t, c.post("/access/users", url.Values{"first_name": {"A"}, "last_name": {"B"}, "email": {"ab@example.com"}}), http.StatusForbidden)
	expectStatus(t, c.get("/access/directory-services/provisioning"), http.StatusForbidden)
	expectStatus(t, c.post("/access/directory-services/provisioning", url.Values{"method": {"registration_code"}}), http.StatusForbidden)
	id := fmt.Sprint(us[0].ID)
	for _, action := range []string{"disable", "enable", "delete"} {
		expectStatus(t, c.post("/access/users/actions", url.Values{"action": {action}, "ids": {id}, "confirm": {"1"}}), http.StatusForbidden)
	}
	if got := a.user(boss.AccountID, us[0].ID); got.Status != models.UserEnabled {
		t.Fatal("helpdesk disabled a user")
	}
	r = c.post("/access/users/actions", url.Values{"action": {"resend_invitation"}, "ids": {id}, "confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	r = c.post("/access/users/actions", url.Values{"action": {"reset_password"}, "ids": {id}, "confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	r = c.get("/access/users")
	expectBody(t, r, "Password reset for 1 user.")
}

func TestProvisioningSettings(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	c := a.client()
	c.signIn("boss@example.com")
	r := c.get("/access/directory-services/provisioning")
	expectStatus(t, r, http.StatusOK)
	// Defaults: Invitation Email with the three options on, codes valid 7 days.
	expectBody(t, r, `value="invitation_email" checked`)
	for _, name := range []string{"invite_manual", "invite_directory", "notify_disabled"} {
		expectBody(t, r, `name="`+name+`" checked`)
	}
	expectBody(t, r, `value="7"`)

	post := func(vals url.Values) response {
		c.get("/access/directory-services/provisioning")
		return c.post("/access/directory-services/provisioning", vals)
	}
	for _, bad := range []struct{ value, unit, want string }{
		{"0", "hours", "at least 1 hour"},
		{"169", "hours", "at most 7 days"},
		{"8", "days", "at most 7 days"},
		{"-1", "days", "at least 1 hour"},
		{"x", "days", "whole number"},
		{"3", "weeks", "hours or days"},
	} {
		r := post(url.Values{"method": {"invitation_email"}, "code_expiry_value": {bad.value}, "code_expiry_unit": {bad.unit}})
		expectStatus(t, r, http.StatusUnprocessableEntity)
		expectBody(t, r, `data-testid="error-code_expiry_value"`)
		expectBody(t, r, bad.want)
		expectBody(t, r, `value="`+bad.value+`"`)
	}
	for _, ok := range []struct{ value, unit string }{{"1", "hours"}, {"168", "hours"}, {"7", "days"}, {"1", "days"}} {
		expectStatus(t, post(url.Values{"method": {"invitation_email"}, "invite_manual": {"on"}, "code_expiry_value": {ok.value}, "code_expiry_unit": {ok.unit}}), http.StatusSeeOther)
	}
	if n := a.eventCount(models.SubSettingsChanged); n != 4 {
		t.Fatalf("%d Settings Changed events", n)
	}
	// Saving the same values again records nothing.
	expectStatus(t, post(url.Values{"method": {"invitation_email"}, "invite_manual": {"on"}, "code_expiry_value": {"1"}, "code_expiry_unit": {"days"}}), http.StatusSeeOther)
	if n := a.eventCount(models.SubSettingsChanged); n != 4 {
		t.Fatalf("an unchanged save wrote an event (%d)", n)
	}
	evs, _ := a.store.RecentEvents(t.Context(), boss.AccountID, 10)
	var details []string
	for _, e := range evs {
		details = append(details, e.Details)
	}
	if all := strings.Join(details, "\n"); !strings.Contains(all, `"code_expiry_unit":"hours → days"`) || !strings.Contains(all, `"code_expiry":"1 hour → 7 days"`) {
		t.Fatalf("event details:\n%s", all)
	}

	// SSO (switched on its own tab) with invitations on recommends turning them off; saving
	// this page leaves SSO as it is.
	if err := a.store.SetSSOEnabled(t.Context(), boss.AccountID, true); err != nil {
		t.Fatal(err)
	}
	expectBody(t, c.get("/access/directory-services/provisioning"), `data-testid="sso-warning"`)
	expectStatus(t, post(url.Values{"method": {"invitation_email"}, "invite_manual": {"on"}, "code_expiry_value": {"1"}, "code_expiry_unit": {"days"}}), http.StatusSeeOther)
	expectBody(t, c.get("/access/directory-services/provisioning"), `data-testid="sso-warning"`)

	// Registration Code is refused while users have MFA, with the count and a link to them.
	a.seedUsers(boss.AccountID, 3, func(i int, u *models.SDPUser) { u.MFAConfigured = i < 2 })
	r = post(url.Values{"method": {"registration_code"}, "code_expiry_value": {"1"}, "code_expiry_unit": {"days"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, "2 users have MFA configured")
	expectBody(t, r, `href="/access/users?mfa=yes"`)
	acct, _ := a.store.Account(t.Context(), boss.AccountID)
	if acct.ProvisioningMethod != models.MethodInvitationEmail {
		t.Fatal("the method changed although users have MFA")
	}
	r = c.get("/access/users?mfa=yes")
	if n := strings.Count(r.body, `data-testid="user-row"`); n != 2 {
		t.Fatalf("MFA filter lists %d users", n)
	}
}

func TestUsersListFiltersAndPages(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	seeded := a.seedUsers(boss.AccountID, 120, func(i int, u *models.SDPUser) {
		if i%10 == 0 {
			u.Status = models.UserDisabled
		}
		if i%3 == 0 {
			u.Activation = models.ActivationActive
		}
		if i == 7 {
			u.FirstName, u.LastName, u.Email = "Zelda", "Ozborne", "zelda@corp.example"
		}
	})
	for i, u := range seeded {
		if i%2 == 0 {
			a.insertCode(u, time.Hour)
		}
	}
	other := a.createAdmin("globex", "hank@globex.example", models.RoleAdmin)
	a.seedUsers(other.AccountID, 1, func(_ int, u *models.SDPUser) { u.Email = "secret@globex.example" })

	c := a.client()
	c.signIn("boss@example.com")
	count := func(path string) int {
		t.Helper()
		r := c.get(path)
		expectStatus(t, r, http.StatusOK)
		if strings.Contains(r.body, "globex") {
			t.Fatal("another account's user is listed")
		}
		return strings.Count(r.body, `data-testid="user-row"`)
	}
	if n := count("/access/users"); n != 50 {
		t.Fatalf("first page %d rows", n)
	}
	if n := count("/access/users?status=disabled"); n != 12 {
		t.Fatalf("disabled: %d", n)
	}
	if n := count("/access/users?activation=active&status=disabled"); n != 4 {
		t.Fatalf("active+disabled: %d", n)
	}
	if n := count("/access/users?never_had_code=1&status=disabled"); n != 0 {
		t.Fatalf("never had code + disabled: %d", n)
	}
	if n := count("/access/users?q=ZEL"); n != 1 {
		t.Fatalf("first-name prefix: %d", n)
	}
	if n := count("/access/users?q=ozb"); n != 1 {
		t.Fatalf("last-name prefix: %d", n)
	}
	if n := count("/access/users?q=zelda@corp"); n != 1 {
		t.Fatalf("email prefix: %d", n)
	}
	if n := count("/access/users?q=" + url.QueryEscape("user0001")); n != 10 {
		t.Fatalf("email prefix user0001: %d", n)
	}
	if n := count("/access/users?q=" + url.QueryEscape("%")); n != 0 {
		t.Fatalf("a LIKE wildcard matched %d", n)
	}

	// Walk every page of a filtered, sorted list: each user once, in order.
	for _, sortBy := range []string{"newest", "oldest", "name", "email"} {
		seen := map[string]bool{}
		var order []string
		path := "/access/users?sort=" + sortBy + "&never_had_code=1"
		for pages := 0; path != ""; pages++ {
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
			r := c.get(path)
			for _, m := range regexp.MustCompile(`<td>(user\d+@example\.com|zelda@corp\.example)</td>`).FindAllStringSubmatch(r.body, -1) {
				if seen[m[1]] {
					t.Fatalf("%s: %s twice", sortBy, m[1])
				}
				seen[m[1]] = true
				order = append(order, m[1])
			}
			next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(r.body)
			path = ""
			if next != nil {
				path = strings.ReplaceAll(next[1], "&amp;", "&")
				if !strings.Contains(path, "never_had_code=1") {
					t.Fatalf("the next link lost the filter: %s", path)
				}
			}
		}
		if len(seen) != 60 {
			t.Fatalf("%s: %d users over all pages, want 60", sortBy, len(seen))
		}
		if sortBy == "email" {
			for i := 1; i < len(order); i++ {
				if order[i-1] > order[i] {
					t.Fatalf("email order broken at %s > %s", order[i-1], order[i])
				}
			}
		}
	}
	// Another account's user page is a 404.
	r := c.get(fmt.Sprintf("/access/users/%d", mustUserID(t, a, other.AccountID, "secret@globex.example")))
	expectStatus(t, r, http.StatusNotFound)
}

func mustUserID(t *testing.T, a *testApp, accountID int64, email string) int64 {
	t.Helper()
	u, err := a.store.UserByEmail(t.Context(), accountID, email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func TestBulkDisableWithConfirmation(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, 3, nil)
	// A portal session of user 0 must die when they are disabled.
	sessID := a.insertPortalSession(us[0].ID, "portal-token")
	c := a.client()
	c.signIn("boss@example.com")
	c.get("/access/users")
	form := url.Values{"action": {"disable"}, "ids": {fmt.Sprint(us[0].ID), fmt.Sprint(us[1].ID)}}
	r := c.post("/access/users/actions", form)
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="confirm-page"`)
	expectBody(t, r, "Disable: 2 users?")
	expectBody(t, r, "notification email")
	c.header.Set("HX-Request", "true")
	r = c.post("/access/users/actions", form)
	c.header.Del("HX-Request")
	if !strings.HasPrefix(strings.TrimSpace(r.body), "<dialog") {
		t.Fatalf("htmx warning is not a dialog: %s", snippet(r.body))
	}
	if a.user(boss.AccountID, us[0].ID).Status != models.UserEnabled {
		t.Fatal("disabled before confirmation")
	}
	form.Set("confirm", "1")
	r = c.post("/access/users/actions", form)
	expectStatus(t, r, http.StatusSeeOther)
	expectBody(t, c.get("/access/users"), "Disabled 2 users.")
	for i, want := range []models.UserStatus{models.UserDisabled, models.UserDisabled, models.UserEnabled} {
		if got := a.user(boss.AccountID, us[i].ID).Status; got != want {
			t.Fatalf("user %d is %s", i, got)
		}
	}
	if a.portalSessionExists(sessID) {
		t.Fatal("the disabled user's portal session survived")
	}
	if a.disabledNotices(boss.AccountID, us[0].Email) != 1 {
		t.Fatal("no disabled notice queued")
	}
	// Again: already disabled ones are skipped and counted.
	r = c.post("/access/users/actions", form)
	expectStatus(t, r, http.StatusSeeOther)
	expectBody(t, c.get("/access/users"), "Disabled 0 users. 2 skipped")
	// Enable through "all matching" the disabled filter.
	r = c.post("/access/users/actions", url.Values{"action": {"enable"}, "all_matching": {"1"}, "status": {"disabled"}, "confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	expectBody(t, c.get("/access/users"), "Enabled 2 users.")
	// Another account's id is not touched.
	other := a.createAdmin("globex", "hank@globex.example", models.RoleAdmin)
	theirs := a.seedUsers(other.AccountID, 1, nil)
	r = c.post("/access/users/actions", url.Values{"action": {"disable"}, "ids": {fmt.Sprint(theirs[0].ID)}})
	expectStatus(t, r, http.StatusNotFound)
	c.post("/access/users/actions", url.Values{"action": {"disable"}, "ids": {fmt.Sprint(theirs[0].ID)}, "confirm": {"1"}})
	if a.user(other.AccountID, theirs[0].ID).Status != models.UserEnabled {
		t.Fatal("another account's user was disabled")
	}
}

func TestResendInvitationKillsOlderLink(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	created, err := a.Users.Create(t.Context(), boss, "", usersInput("ada@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	u := created.User
	c := a.client()
	c.signIn("boss@example.com")
	c.get("/access/users")
	r := c.post("/access/users/actions", url.Values{"action": {"resend_invitation"}, "ids": {fmt.Sprint(u.ID)}, "confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	links := a.invitationLinks(boss.AccountID, "ada@example.com")
	if len(links) != 2 || links[0] == links[1] {
		t.Fatalf("links %v", links)
	}
	tokenOf := func(link string) string { return link[strings.LastIndex(link, "/")+1:] }
	if _, err := a.store.ValidToken(t.Context(), models.TokenUserActivation, secret.Hash(tokenOf(links[0])), time.Now()); err == nil {
		t.Fatal("the older link still works")
	}
	if _, err := a.store.ValidToken(t.Context(), models.TokenUserActivation, secret.Hash(tokenOf(links[1])), time.Now()); err != nil {
		t.Fatalf("the new link does not work: %v", err)
	}
	// Active users are not re-invited.
	a.execSQL("UPDATE sdp_users SET activation = ? WHERE id = ?", models.ActivationActive, u.ID)
	c.post("/access/users/actions", url.Values{"action": {"resend_invitation"}, "ids": {fmt.Sprint(u.ID)}, "confirm": {"1"}})
	if n := len(a.invitationLinks(boss.AccountID, "ada@example.com")); n != 2 {
		t.Fatalf("an active user was invited again (%d)", n)
	}
}

func TestResetPasswordEndsSessionsAndReinvites(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, 1, func(_ int, u *models.SDPUser) {
		u.Activation, u.PasswordHash = models.ActivationActive, "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA"
	})
	sessID := a.insertPortalSession(us[0].ID, "t")
	c := a.client()
	c.signIn("boss@example.com")
	c.get(fmt.Sprintf("/access/users/%d", us[0].ID))
	r := c.post("/access/users/actions", url.Values{"action": {"reset_password"}, "ids": {fmt.Sprint(us[0].ID)}, "back": {"user"}, "confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != fmt.Sprintf("/access/users/%d", us[0].ID) {
		t.Fatalf("back to %q", loc)
	}
	got := a.user(boss.AccountID, us[0].ID)
	if got.PasswordHash != "" || got.Activation != models.ActivationInvitationSent {
		t.Fatalf("after reset: hash %q activation %s", got.PasswordHash, got.Activation)
	}
	if a.portalSessionExists(sessID) {
		t.Fatal("portal session survived the reset")
	}
	if len(a.invitationLinks(boss.AccountID, us[0].Email)) != 1 {
		t.Fatal("no fresh invitation after reset")
	}
	r = c.get(fmt.Sprintf("/access/users/%d", us[0].ID))
	expectBody(t, r, "User · Password Reset")
}

func TestDeleteUsers(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, 3, nil)
	c := a.client()
	c.signIn("boss@example.com")
	c.get("/access/users")
	r := c.post("/access/users/actions", url.Values{"action": {"delete"}, "ids": {fmt.Sprint(us[0].ID)}})
	expectBody(t, r, "cannot be undone")
	r = c.post("/access/users/actions", url.Values{"action": {"delete"}, "ids": {fmt.Sprint(us[0].ID)}, "confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	expectStatus(t, c.get(fmt.Sprintf("/access/users/%d", us[0].ID)), http.StatusNotFound)
	if n := a.eventCount(models.SubUserDeleted); n != 1 {
		t.Fatalf("%d Deleted events", n)
	}
	// Nothing selected: a clear message, no change.
	r = c.post("/access/users/actions", url.Values{"action": {"delete"}, "confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	expectBody(t, c.get("/access/users"), "Select at least one user")
}

func TestBulkActionIsAllOrNothing(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, 2500, nil)
	failing := &failingOutbox{real: a.Outbox, failAfter: 2100}
	svc := a.usersWithOutbox(failing)
	_, err := svc.Bulk(t.Context(), boss, "", "resend_invitation", allUsers())
	if err == nil {
		t.Fatal("the failing outbox did not fail the action")
	}
	for _, u := range []*models.SDPUser{us[0], us[1500], us[2499]} {
		if got := a.user(boss.AccountID, u.ID); got.Activation != models.ActivationNew {
			t.Fatalf("user %d changed although the action failed", u.ID)
		}
	}
	if n := a.eventCount(models.SubUserInvited); n != 0 {
		t.Fatalf("%d Invited events survived the rollback", n)
	}
	res, err := a.Users.Bulk(t.Context(), boss, "", "resend_invitation", allUsers())
	if err != nil || res.Affected != 2500 {
		t.Fatalf("retry: %+v %v", res, err)
	}
}

func allUsers() users.Selection { return users.Selection{All: true} }

// insertPortalSession adds a portal session row for a user and returns its id.
func (a *testApp) insertPortalSession(userID int64, token string) string {
	a.t.Helper()
	id := secret.Hash(token)
	a.execSQL("INSERT INTO portal_sessions (id, sdp_user_id, created_at, last_seen_at, expires_at) VALUES (?, ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)", id, userID)
	return id
}

func (a *testApp) portalSessionExists(id string) bool {
	a.t.Helper()
	return a.countSQL("SELECT COUNT(*) FROM portal_sessions WHERE id = ?", id) > 0
}

// usersWithOutbox is the users service over the app's database with another outbox.
func (a *testApp) usersWithOutbox(o users.Outbox) *users.Service {
	a.t.Helper()
	j, err := jobs.New(a.store, jobs.Config{}) // the runner's worker is on the app's queue already
	if err != nil {
		a.t.Fatal(err)
	}
	return users.New(a.store, o, a.Codes, a.Devices, runs.New(a.store, j, nil), users.Config{BaseURL: "http://onramp.test"})
}

// TestConfirmationsKeepTheFlashes: a confirmation, as a dialog or as a page, must not take the
// flash that belongs to the page that shows it or to the next one.
func TestConfirmationsKeepTheFlashes(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, 3, nil)
	c := a.client()
	c.signIn("boss@example.com")
	c.get("/access/users")
	remove := func(u *models.SDPUser) {
		t.Helper()
		r := c.post("/access/users/actions", url.Values{"action": {"delete"}, "ids": {fmt.Sprint(u.ID)}, "confirm": {"1"}})
		expectStatus(t, r, http.StatusSeeOther) // the flash waits for the next page
	}
	ask := url.Values{"action": {"disable"}, "ids": {fmt.Sprint(us[2].ID)}}

	remove(us[0])
	c.header.Set("HX-Request", "true")
	r := c.post("/access/users/actions", ask)
	c.header.Del("HX-Request")
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="confirm-ok"`)
	expectBody(t, c.get("/access/users"), "Deleted 1 user.")

	remove(us[1])
	r = c.post("/access/users/actions", ask)
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="confirm-ok"`)
	expectBody(t, r, "Deleted 1 user.")
}

var errQueueDown = errors.New("queue unavailable")

// failingOutbox queues through the real outbox but fails after a number of messages, to test
// that a bulk action rolls back whole.
type failingOutbox struct {
	real      *mail.Outbox
	failAfter int
	queued    int
}

func (o *failingOutbox) QueueInvitations(ctx context.Context, tx *store.Store, invs []mail.Invitation) error {
	if o.queued += len(invs); o.queued > o.failAfter {
		return errQueueDown
	}
	return o.real.QueueInvitations(ctx, tx, invs)
}

func (o *failingOutbox) QueueDisabledNotices(ctx context.Context, tx *store.Store, ns []mail.DisabledNotice) error {
	return o.real.QueueDisabledNotices(ctx, tx, ns)
}
