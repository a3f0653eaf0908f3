package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"onramp/models"
)

// TestDirectoryUsersReadOnly: a directory user's name, email and phone are read-only in the
// console (a crafted POST changes nothing), Disable and Enable skip them with the reason in the
// result, Reset password still works on them, and the Users list shows and filters the origin
// by the directory's name.
func TestDirectoryUsersReadOnly(t *testing.T) {
	a := newApp(t)
	entra := a.scimFor(t, "acme", "Entra")
	if r := entra.do(http.MethodPost, "/Users", userBody("dir@example.com", "Dora", "Dir")); r.status != http.StatusCreated {
		t.Fatalf("scim create: %d %s", r.status, r.raw)
	}
	dirUser := a.countSQL("SELECT id FROM sdp_users WHERE email = 'dir@example.com'")
	manual := a.sdpUser("acme", "man@example.com")
	c := a.client()
	c.signIn("boss@acme.example")

	edit := "/access/users/" + strconv.Itoa(dirUser) + "/edit"
	r := c.get(edit)
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="edit-managed"`)
	expectBody(t, r, "Managed by directory <strong>Entra</strong>: change it there")
	if strings.Count(r.body, " readonly") != 4 || strings.Contains(r.body, `data-testid="edit-user-save"`) {
		t.Fatalf("the profile is not read-only: %s", snippet(r.body))
	}
	r = c.post(edit, url.Values{"first_name": {"Eve"}, "last_name": {"Dir"}, "email": {"evil@example.com"}, "phone": {"+1 555"}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, "Managed by directory Entra: change it there.")
	expectBody(t, r, `value="dir@example.com"`)
	if n := a.countSQL("SELECT COUNT(*) FROM sdp_users WHERE id = ? AND email = 'dir@example.com' AND first_name = 'Dora' AND phone = ''", dirUser); n != 1 {
		t.Fatal("a crafted POST changed a directory user")
	}
	r = c.post(edit, url.Values{"first_name": {"Dora"}, "last_name": {"Dir"}, "email": {"dir@example.com"}})
	expectStatus(t, r, http.StatusSeeOther)
	// A console user's edit form is unchanged.
	expectStatus(t, c.post("/access/users/"+strconv.FormatInt(manual.ID, 10)+"/edit",
		url.Values{"first_name": {"Manu"}, "last_name": {"Al"}, "email": {"man@example.com"}}), http.StatusSeeOther)

	show := c.get("/access/users/" + strconv.Itoa(dirUser))
	expectBody(t, show, `data-testid="user-managed"`)
	if strings.Contains(show.body, `data-testid="action-disable"`) {
		t.Fatal("the user page offers Disable for a directory user")
	}
	expectBody(t, show, `data-testid="action-reset_password"`)

	ids := []string{strconv.Itoa(dirUser), strconv.FormatInt(manual.ID, 10)}
	r = c.post("/access/users/actions", url.Values{"action": {"disable"}, "ids": ids, "confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	r = c.get(r.Header.Get("Location"))
	expectBody(t, r, "Disabled 1 user. 1 user skipped: managed by a directory, which sets their status (change it there).")
	if a.reload(manual).Status != models.UserDisabled ||
		a.countSQL("SELECT COUNT(*) FROM sdp_users WHERE id = ? AND status = 'enabled'", dirUser) != 1 {
		t.Fatal("Disable changed the directory user, or not the console user")
	}
	r = c.post("/access/users/actions", url.Values{"action": {"reset_password"}, "ids": {strconv.Itoa(dirUser)}, "confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	expectBody(t, c.get(r.Header.Get("Location")), "Password reset for 1 user.")

	list := c.get("/access/users")
	expectBody(t, list, "<td>Entra</td>")
	expectBody(t, list, "<td>Manual</td>")
	expectBody(t, list, `<option value="directory:Entra">Entra</option>`)
	filtered := c.get("/access/users?origin=" + url.QueryEscape("directory:Entra"))
	expectBody(t, filtered, "dir@example.com")
	if strings.Contains(filtered.body, "man@example.com") {
		t.Fatal("the origin filter kept a console user")
	}
}
