package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"onramp/models"
)

// TestEveryDoorRefusesGuessablePasswords: wherever a password is chosen (first-run setup, an
// admin's set-password link, an admin's change of password, portal activation, an end user's
// change of password), one built on the person's own email is refused with the reason, and so
// is a common one dressed up with look-alike symbols and a year; the form says what is asked,
// nothing is used up, and a strong one is accepted after them.
func TestEveryDoorRefusesGuessablePasswords(t *testing.T) {
	t.Parallel()
	for _, door := range []struct {
		name string
		// open readies the door for its person, and gives the client, where to post and the
		// form's other fields.
		open func(t *testing.T, a *testApp) (c *client, path string, form url.Values)
		// email is the person's, on which the refused password is built.
		email string
	}{
		{"setup", func(t *testing.T, a *testApp) (*client, string, url.Values) {
			token, err := a.Auth.EnsureSetupLink(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			c := a.client()
			c.get("/setup?token=" + token)
			return c, "/setup?token=" + token, url.Values{"account": {"globex"}, "email": {"ada@example.com"}, "name": {"Ada Lovelace"}}
		}, "ada@example.com"},
		{"set-password link", func(t *testing.T, a *testApp) (*client, string, url.Values) {
			boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
			_, token, err := a.Admins.Add(context.Background(), boss, "", addInput(1))
			if err != nil {
				t.Fatal(err)
			}
			c := a.client()
			c.get("/set-password/" + token)
			return c, "/set-password/" + token, url.Values{}
		}, "staff01@example.com"},
		{"console password change", func(t *testing.T, a *testApp) (*client, string, url.Values) {
			a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
			c := a.client()
			c.signIn("ada@example.com")
			c.get("/account/password")
			return c, "/account/password", url.Values{"current_password": {testPassword}}
		}, "ada@example.com"},
		{"portal activation", func(t *testing.T, a *testApp) (*client, string, url.Values) {
			link := a.activationLink(a.sdpUser("acme", "grace@example.com"), 24*time.Hour)
			c := a.client()
			c.get(link)
			return c, link, url.Values{}
		}, "grace@example.com"},
		{"portal password change", func(t *testing.T, a *testApp) (*client, string, url.Values) {
			a.activeSDPUser("acme", "grace@example.com")
			c := a.client()
			c.portalSignIn("acme", "grace@example.com", testPassword, "")
			c.get("/myvpn/password")
			return c, "/myvpn/password", url.Values{"current_password": {testPassword}}
		}, "grace@example.com"},
	} {
		t.Run(door.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t)
			c, path, form := door.open(t, a)
			post := func(pw string) response {
				f := url.Values{"password": {pw}, "password_confirm": {pw}}
				for k, v := range form {
					f[k] = v
				}
				return c.post(path, f)
			}
			for pw, says := range map[string]string{
				door.email + "2024": "your email address, name or account",
				"P@ssw0rd2024!":     "look-alike symbols",
			} {
				r := post(pw)
				expectStatus(t, r, http.StatusUnprocessableEntity)
				expectBody(t, r, `data-testid="error-password"`)
				expectBody(t, r, "This password is too easy to guess: ")
				expectBody(t, r, says)
				expectBody(t, r, "hard to guess: not built on your name, email or account")
			}
			expectStatus(t, post(newPortalPassword), http.StatusSeeOther)
		})
	}
}
