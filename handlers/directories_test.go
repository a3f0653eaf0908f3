package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"onramp/models"
)

// shownToken is the token on the result page of a token creation.
var shownToken = regexp.MustCompile(`<input[^>]*value="([^"]+)"[^>]*data-testid="scim-token"`)

// TestDirectorySyncTab: an admin creates a SCIM directory and its token on the Directory Sync
// tab, sees the token once, adds another one, revokes it (confirmed), and the revoked token
// gets 401 on /scim/v2; helpdesk gets 403, another account's ids 404.
func TestDirectorySyncTab(t *testing.T) {
	a := newApp(t)
	a.createAdmin("acme", "boss@acme.example", models.RoleAdmin)
	a.createAdmin("acme", "help@acme.example", models.RoleHelpdesk)
	other := a.scimFor(t, "other", "Entra")
	const list = "/access/directory-services/directories"

	c := a.client()
	c.signIn("boss@acme.example")
	r := c.get(list)
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, "No directory yet")
	prov := c.get("/access/directory-services/provisioning")
	expectBody(t, prov, `href="`+list+`"`)

	expectStatus(t, c.post(list, url.Values{"name": {" "}}), http.StatusUnprocessableEntity)
	r = c.post(list, url.Values{"name": {"Okta"}})
	expectStatus(t, r, http.StatusOK)
	m := shownToken.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no token shown: %s", snippet(r.body))
	}
	tok := m[1]
	expectBody(t, r, "/scim/v2")
	if a.eventCount(models.SubTokenCreated) != 2 {
		t.Fatalf("token created events %d", a.eventCount(models.SubTokenCreated))
	}
	okta := &scimClient{t: t, app: a, token: tok}
	if got := okta.do(http.MethodGet, "/Users", ""); got.status != http.StatusOK {
		t.Fatalf("scim with the new token: %d %s", got.status, got.raw)
	}

	r = c.get(list)
	expectBody(t, r, "Okta")
	if strings.Contains(r.body, tok) {
		t.Fatal("the token is shown again on the list")
	}
	dirID := a.countSQL("SELECT id FROM directories WHERE name = 'Okta'")
	tokID := a.countSQL("SELECT id FROM directory_tokens WHERE directory_id = ?", dirID)
	otherDir := a.countSQL("SELECT id FROM directories WHERE name = 'Entra'")
	otherTok := a.countSQL("SELECT id FROM directory_tokens WHERE directory_id = ?", otherDir)
	dir := list + "/" + strconv.Itoa(dirID)

	r = c.post(dir+"/tokens", nil)
	expectStatus(t, r, http.StatusOK)
	if m := shownToken.FindStringSubmatch(r.body); m == nil || m[1] == tok {
		t.Fatalf("second token not shown: %s", snippet(r.body))
	}

	revoke := dir + "/tokens/" + strconv.Itoa(tokID) + "/revoke"
	r = c.post(revoke, nil)
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="confirm-page"`)
	if okta.do(http.MethodGet, "/Users", "").status != http.StatusOK {
		t.Fatal("the token was revoked before the confirmation")
	}
	r = c.post(revoke, url.Values{"confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	if got := okta.do(http.MethodGet, "/Users", ""); got.status != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", got.status)
	}
	if a.eventCount(models.SubTokenRevoked) != 1 {
		t.Fatalf("revoked events %d", a.eventCount(models.SubTokenRevoked))
	}
	expectBody(t, c.get(list), "Revoked")

	otherPath := list + "/" + strconv.Itoa(otherDir)
	expectStatus(t, c.post(otherPath+"/tokens", nil), http.StatusNotFound)
	expectStatus(t, c.post(otherPath+"/tokens/"+strconv.Itoa(otherTok)+"/revoke", url.Values{"confirm": {"1"}}), http.StatusNotFound)
	expectStatus(t, c.post(dir+"/tokens/"+strconv.Itoa(otherTok)+"/revoke", url.Values{"confirm": {"1"}}), http.StatusNotFound)
	expectStatus(t, c.post(list+"/x/tokens", nil), http.StatusNotFound)
	if other.do(http.MethodGet, "/Users", "").status != http.StatusOK {
		t.Fatal("the other account's token was revoked")
	}

	h := a.client()
	h.signIn("help@acme.example")
	expectStatus(t, h.get(list), http.StatusForbidden)
	expectStatus(t, h.post(list, url.Values{"name": {"Entra"}}), http.StatusForbidden)
	expectStatus(t, h.post(revoke, url.Values{"confirm": {"1"}}), http.StatusForbidden)
}
