package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/mail/mailtest"
)

// TestSCIMEndToEndInvitationAndDisable: under the Invitation Email method with options 2 and 3
// on (the defaults), a user Okta creates over SCIM gets the invitation at the SMTP server; its
// link activates the account on MyVPN and the password signs in there. When Entra ID's PATCH
// then sets active "False", the portal session ends and the disable notice reaches the SMTP
// server too.
func TestSCIMEndToEndInvitationAndDisable(t *testing.T) {
	t.Parallel()
	smtp := mailtest.Start(t)
	a := newApp(t, withSMTP(smtp))
	s := a.scimFor(t, "acme", "Okta")
	r := s.do(http.MethodPost, "/Users", userBody("ann@example.com", "Ann", "Lee"))
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	id := r.str("id")

	msgs := smtp.Wait(1, 30*time.Second)
	if len(msgs) != 1 || msgs[0].To[0] != "ann@example.com" || msgs[0].Header.Get("Subject") != "Activate your acme VPN account" {
		t.Fatalf("mail: %+v", msgs)
	}
	link := activationLinkRE.FindString(msgs[0].Text)
	if link == "" {
		t.Fatalf("no activation link in:\n%s", msgs[0].Text)
	}
	path := strings.TrimPrefix(link, "http://onramp.test")
	portal := a.client()
	expectBody(t, portal.get(path), `data-testid="activation-form"`)
	r2 := portal.post(path, url.Values{"password": {newPortalPassword}, "password_confirm": {newPortalPassword}})
	expectStatus(t, r2, http.StatusSeeOther)
	expectBody(t, portal.get("/myvpn"), `data-testid="portal-email">ann@example.com<`)
	a.client().portalSignIn("acme", "ann@example.com", newPortalPassword, "")
	u := storedUser(t, a, id)
	if u.Activation != models.ActivationActive || u.Origin != "directory:Okta" {
		t.Fatalf("after activation: %+v", u)
	}

	r = s.do(http.MethodPatch, "/Users/"+id, patchOps(`{"op":"Replace","path":"active","value":"False"}`))
	if r.status != http.StatusOK || r.body["active"] != false {
		t.Fatalf("deactivation: %d %s", r.status, r.raw)
	}
	expectPortalLogin(t, portal.get("/myvpn"))
	msgs = smtp.Wait(2, 30*time.Second)
	if len(msgs) != 2 || msgs[1].To[0] != "ann@example.com" || msgs[1].Header.Get("Subject") != "Your acme VPN access is disabled" {
		t.Fatalf("mail after the deactivation: %+v", msgs)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE sub_type = 'Disabled' AND actor_type = 'directory' AND actor_label = 'Okta'"); n != 1 {
		t.Errorf("%d Disabled events by the directory", n)
	}
}

// TestSCIMEndToEndRegistrationCode: under the Registration Code method (chosen on the
// provisioning page), a user Entra ID creates over SCIM has an active code on their page's
// Codes card and in the codes CSV, no invitation, and the code registers a device on the
// client API.
func TestSCIMEndToEndRegistrationCode(t *testing.T) {
	t.Parallel()
	smtp := mailtest.Start(t)
	a := newApp(t, withSMTP(smtp))
	s := a.scimFor(t, "acme", "Entra ID")
	c := a.client()
	c.signIn("boss@acme.example")
	useRegistrationCodes(t, c)

	r := s.do(http.MethodPost, "/Users", entraCreateUser("bob@contoso.example", "bob@example.com", "ext-bob"))
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	page := c.get("/access/users/" + r.str("id"))
	expectStatus(t, page, http.StatusOK)
	if n := strings.Count(page.body, `data-testid="code-row" data-state="active"`); n != 1 {
		t.Fatalf("%d active codes on the Codes card:\n%s", n, snippet(page.body))
	}
	var code string
	for _, row := range csvRows(t, c.get("/access/directory-services/provisioning/codes.csv").body)[1:] {
		if row[2] == "bob@example.com" {
			code = row[3]
		}
	}
	if code == "" {
		t.Fatal("bob's code is not in the codes CSV")
	}
	reg := a.api(http.MethodPost, "/api/v1/client/register", "", registerBody(code, "Bob's laptop"))
	expectAPI(t, reg, http.StatusCreated, "")
	if user, _ := reg.body["user"].(map[string]any); user["email"] != "bob@example.com" || reg.str("device_token") == "" {
		t.Fatalf("registered %s", reg.raw)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM mail_messages"); n != 0 {
		t.Errorf("%d messages queued under the Registration Code method", n)
	}
}
