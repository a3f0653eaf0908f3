package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/secret"
)

func editPath(u *models.SDPUser) string { return fmt.Sprintf("/access/users/%d/edit", u.ID) }

func editForm(first, last, email, phone string) url.Values {
	return url.Values{"first_name": {first}, "last_name": {last}, "email": {email}, "phone": {phone}}
}

// TestEditUser: an admin fixes a user's name, email and phone on the user page's Edit form;
// the rules are those of New user, a taken email is an inline error that keeps the input, and
// an event lists each change as from → to.
func TestEditUser(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, 2, func(i int, u *models.SDPUser) {
		u.Activation = models.ActivationActive
		if i == 0 {
			u.FirstName, u.LastName, u.Email = "Grace", "Hopper", "grace@exmaple.com"
		}
	})
	u := us[0]
	c := a.client()
	c.signIn("boss@example.com")

	r := c.get(fmt.Sprintf("/access/users/%d", u.ID))
	expectBody(t, r, fmt.Sprintf(`href="/access/users/%d/edit"`, u.ID))
	r = c.get(editPath(u))
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="edit-user-form"`)
	expectBody(t, r, `value="grace@exmaple.com"`)

	// Bad input: the same rules as New user, every message inline, the input kept.
	r = c.post(editPath(u), editForm("", "Hopper", "not an email", "call me"))
	expectStatus(t, r, http.StatusUnprocessableEntity)
	for _, f := range []string{"first_name", "email", "phone"} {
		expectBody(t, r, `data-testid="error-`+f+`"`)
	}
	expectBody(t, r, `value="not an email"`)
	expectBody(t, r, `value="call me"`)

	// Another user's email, in other case: a clear inline error, never a 500.
	r = c.post(editPath(u), editForm("Grace", "Hopper", " USER00001@Example.com ", ""))
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, `data-testid="error-email"`)
	expectBody(t, r, "A user with this email already exists in this account.")
	expectBody(t, r, `value=" USER00001@Example.com "`)
	if got := a.reload(u); got.Email != "grace@exmaple.com" {
		t.Fatalf("email %q after a refused edit", got.Email)
	}
	if n := a.eventCount(models.SubUserUpdated); n != 0 {
		t.Fatalf("%d Updated events after refused edits", n)
	}

	// The typo fixed, a phone added: saved, an event lists each change, a flash, the user page.
	r = c.post(editPath(u), editForm(" Grace ", "Hopper", "Grace@Example.com", "+1 555 0100"))
	expectStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != fmt.Sprintf("/access/users/%d", u.ID) {
		t.Fatalf("sent to %q", loc)
	}
	r = c.get(fmt.Sprintf("/access/users/%d", u.ID))
	expectBody(t, r, "Grace Hopper is updated.")
	expectBody(t, r, "grace@example.com")
	got := a.reload(u)
	if got.Email != "grace@example.com" || got.Phone != "+1 555 0100" || got.FirstName != "Grace" {
		t.Fatalf("saved %+v", got)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE type = ? AND sub_type = ? AND sdp_user_id = ? AND actor_label = ? AND email = ? AND details LIKE ? AND details LIKE ? AND details NOT LIKE ?",
		string(models.EventUser), models.SubUserUpdated, u.ID, "boss@example.com", "grace@example.com",
		`%"email":"grace@exmaple.com → grace@example.com"%`, `%"phone":"(none) → +1 555 0100"%`, `%first_name%`); n != 1 {
		t.Fatalf("%d Updated events listing the changes", n)
	}
	// Sorting by name follows the new name.
	r = c.post(editPath(u), editForm("Grace", "Brewster Hopper", "grace@example.com", "+1 555 0100"))
	expectStatus(t, r, http.StatusSeeOther)
	if got := a.reload(u); got.NameKey != "brewster hopper grace" {
		t.Fatalf("name key %q", got.NameKey)
	}
	// Nothing changed: no event.
	before := a.eventCount(models.SubUserUpdated)
	expectStatus(t, c.post(editPath(u), editForm("Grace", "Brewster Hopper", "GRACE@example.com", "+1 555 0100")), http.StatusSeeOther)
	expectBody(t, c.get(fmt.Sprintf("/access/users/%d", u.ID)), "No change to save.")
	if n := a.eventCount(models.SubUserUpdated); n != before {
		t.Fatal("an edit that changed nothing wrote an event")
	}

	// Another account's user is not found; the form needs the CSRF token.
	other := a.createAdmin("globex", "hank@globex.example", models.RoleAdmin)
	theirs := a.seedUsers(other.AccountID, 1, nil)[0]
	expectStatus(t, c.get(editPath(theirs)), http.StatusNotFound)
	expectStatus(t, c.post(editPath(theirs), editForm("Hank", "Scorpio", "hank@example.com", "")), http.StatusNotFound)
	if got := a.reload(theirs); got.FirstName != theirs.FirstName {
		t.Fatal("another account's user was edited")
	}
	expectStatus(t, c.postRaw(editPath(u), editForm("X", "Y", "x@example.com", "")), http.StatusForbidden)
	assertNoSecretInEvents(t, a, testPassword)
}

// TestEditUserIsForAdmins: helpdesk staff see the profile but cannot edit it (the email is
// the user's username and where invitations and codes go).
func TestEditUserIsForAdmins(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.createAdmin("acme", "help@example.com", models.RoleHelpdesk)
	u := a.seedUsers(boss.AccountID, 1, nil)[0]
	c := a.client()
	c.signIn("help@example.com")
	r := c.get(fmt.Sprintf("/access/users/%d", u.ID))
	expectStatus(t, r, http.StatusOK)
	if strings.Contains(r.body, editPath(u)) {
		t.Fatal("helpdesk is offered the Edit form")
	}
	expectStatus(t, c.get(editPath(u)), http.StatusForbidden)
	expectStatus(t, c.post(editPath(u), editForm("Mallory", "Evil", "mallory@evil.example", "")), http.StatusForbidden)
	if got := a.reload(u); got.Email != u.Email {
		t.Fatal("helpdesk changed the email")
	}
}

// TestEditEmailOfInvitedUser: the invitation link was mailed to the old address, which may be
// a stranger's (a typo): changing the email kills that link and mails a fresh one to the new
// address.
func TestEditEmailOfInvitedUser(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	created, err := a.Users.Create(t.Context(), boss, "", usersInput("ada@exmaple.com"))
	if err != nil {
		t.Fatal(err)
	}
	u := created.User
	old := a.invitationLinks(boss.AccountID, "ada@exmaple.com")
	if len(old) != 1 {
		t.Fatalf("links %v", old)
	}
	c := a.client()
	c.signIn("boss@example.com")
	c.get(editPath(u))
	expectBody(t, c.get(editPath(u)), "the invitation link mailed to the current address stops working")
	// A name change alone keeps the link.
	expectStatus(t, c.post(editPath(u), editForm("Ada", "User", "ada@exmaple.com", "")), http.StatusSeeOther)
	if n := len(a.invitationLinks(boss.AccountID, "ada@exmaple.com")); n != 1 {
		t.Fatalf("%d invitations after a name change", n)
	}
	tokenOf := func(link string) string { return link[strings.LastIndex(link, "/")+1:] }
	if _, err := a.store.ValidToken(t.Context(), models.TokenUserActivation, secret.Hash(tokenOf(old[0])), time.Now()); err != nil {
		t.Fatalf("a name change killed the link: %v", err)
	}

	expectStatus(t, c.post(editPath(u), editForm("Ada", "User", "ada@example.com", "")), http.StatusSeeOther)
	expectBody(t, c.get(fmt.Sprintf("/access/users/%d", u.ID)), "a new invitation is queued to ada@example.com")
	if _, err := a.store.ValidToken(t.Context(), models.TokenUserActivation, secret.Hash(tokenOf(old[0])), time.Now()); err == nil {
		t.Fatal("the link mailed to the old address still works")
	}
	fresh := a.invitationLinks(boss.AccountID, "ada@example.com")
	if len(fresh) != 1 {
		t.Fatalf("invitations to the new address: %v", fresh)
	}
	if _, err := a.store.ValidToken(t.Context(), models.TokenUserActivation, secret.Hash(tokenOf(fresh[0])), time.Now()); err != nil {
		t.Fatalf("the new link does not work: %v", err)
	}
	if got := a.reload(u); got.Activation != models.ActivationInvitationSent {
		t.Fatalf("activation %q", got.Activation)
	}
	if n := a.clientEvents(models.EventUser, models.SubUserInvited, "email changed"); n != 1 {
		t.Fatalf("%d Invited events for the email change", n)
	}

	// A disabled user's links die too, but nothing is mailed to them.
	a.setStatus(u, models.UserDisabled)
	expectStatus(t, c.post(editPath(u), editForm("Ada", "User", "ada@example.org", "")), http.StatusSeeOther)
	if _, err := a.store.ValidToken(t.Context(), models.TokenUserActivation, secret.Hash(tokenOf(fresh[0])), time.Now()); err == nil {
		t.Fatal("a disabled user's link survived the email change")
	}
	if n := len(a.invitationLinks(boss.AccountID, "ada@example.org")); n != 0 {
		t.Fatal("a disabled user was invited")
	}
}
