package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"onramp/models"
)

// The account-wide Devices page (Access > Devices): every device with its user, filters, keyset
// pages, and sign-out of one device or of the selected ones, after a warning naming them.

var deviceNameRE = regexp.MustCompile(`data-testid="device-name">([^<]+)<`)

func deviceNames(body string) []string {
	var out []string
	for _, m := range deviceNameRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestDevicesPage(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.createAdmin("acme", "help@example.com", models.RoleHelpdesk)
	grace := a.activeSDPUser("acme", "grace@example.com")
	laptop, laptopID := a.register(a.insertCode(grace, time.Hour), "Grace laptop")
	r := a.api("POST", "/api/v1/client/login", "", loginBody("grace@example.com", testPassword, ""))
	expectAPI(t, r, http.StatusCreated, "")
	phone := r.str("device_token")
	ada := a.activeSDPUser("acme", "ada@example.com")
	_, adaID := a.register(a.insertCode(ada, time.Hour), "Ada desktop")
	a.createAdmin("globex", "eve@example.com", models.RoleAdmin)
	hank := a.activeSDPUser("globex", "hank@globex.example")
	_, hankID := a.register(a.insertCode(hank, time.Hour), "Hank secret box")

	c := a.client()
	c.signIn("boss@example.com")
	home := c.get("/")
	expectBody(t, home, `href="/access/devices"`)
	page := c.get("/access/devices")
	expectStatus(t, page, http.StatusOK)
	if got := deviceNames(page.body); strings.Join(got, ",") != "Ada desktop,laptop,Grace laptop" {
		t.Fatalf("devices %v", got)
	}
	for _, want := range []string{"grace@example.com", "ada@example.com", fmt.Sprintf(`href="/access/users/%d"`, grace.ID),
		"Registration code", "Password", "linux", "macos", `data-testid="device-sign-out"`, `data-selected-count="ids"`} {
		expectBody(t, page, want)
	}
	if strings.Contains(page.body, "Hank") {
		t.Fatal("another account's device is listed")
	}
	for _, tc := range []struct{ query, want string }{
		{"platform=macos", "laptop"},
		{"via=code", "Ada desktop,Grace laptop"},
		{"via=password", "laptop"},
		{"q=ada", "Ada desktop"},
		{"q=GRACE", "laptop,Grace laptop"},
		{"q=" + url.QueryEscape("%"), ""},
		{"state=signed_out", ""},
		{"state=active&platform=linux", "Ada desktop,Grace laptop"},
		{"state=junk&via=junk", "Ada desktop,laptop,Grace laptop"},
	} {
		r := c.get("/access/devices?" + tc.query)
		expectStatus(t, r, http.StatusOK)
		if got := strings.Join(deviceNames(r.body), ","); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.query, got, tc.want)
		}
	}

	// One device: the warning names it (a page without JavaScript, a dialog for htmx), then
	// confirmed it is signed out, counted and recorded, and the list shows it so.
	one := fmt.Sprintf("/access/devices/%d/sign-out", laptopID)
	r2 := c.post(one, url.Values{"platform": {"linux"}})
	expectStatus(t, r2, http.StatusOK)
	expectBody(t, r2, `data-testid="confirm-page"`)
	expectBody(t, r2, "Grace laptop")
	c.header.Set("HX-Request", "true")
	r2 = c.post(one, nil)
	c.header.Del("HX-Request")
	expectBody(t, r2, `data-testid="confirm-dialog"`)
	expectAPI(t, a.api("GET", "/api/v1/client/session", laptop, nil), http.StatusOK, "")
	r2 = c.post(one, url.Values{"confirm": {"1"}, "platform": {"linux"}})
	expectStatus(t, r2, http.StatusSeeOther)
	if loc := r2.Header.Get("Location"); loc != "/access/devices?platform=linux" {
		t.Fatalf("sent to %q", loc)
	}
	expectAPI(t, a.api("GET", "/api/v1/client/session", laptop, nil), http.StatusUnauthorized, "invalid_token")
	expectAPI(t, a.api("GET", "/api/v1/client/session", phone, nil), http.StatusOK, "")
	if got := a.reload(grace); got.Devices != 1 {
		t.Fatalf("devices counter %d, want 1", got.Devices)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE type = ? AND sub_type = ? AND actor_label = ? AND device_id = ?",
		string(models.EventDevice), models.SubDeviceSignedOut, "boss@example.com", laptopID); n != 1 {
		t.Fatalf("%d Signed Out events", n)
	}
	r2 = c.get("/access/devices?state=signed_out")
	if got := strings.Join(deviceNames(r2.body), ","); got != "Grace laptop" {
		t.Fatalf("signed out: %q", got)
	}
	expectBody(t, r2, "signed out by an admin")
	if got := strings.Join(deviceNames(c.get("/access/devices?state=active").body), ","); got != "Ada desktop,laptop" {
		t.Fatalf("active: %q", got)
	}

	// Ids are the account's: another account's device is 404 alone or among others, junk is 404.
	for _, confirm := range []string{"", "1"} {
		expectStatus(t, c.post(fmt.Sprintf("/access/devices/%d/sign-out", hankID), url.Values{"confirm": {confirm}}), http.StatusNotFound)
		expectStatus(t, c.post("/access/devices/sign-out", url.Values{"confirm": {confirm},
			"ids": {strconv.FormatInt(adaID, 10), strconv.FormatInt(hankID, 10)}}), http.StatusNotFound)
	}
	expectStatus(t, c.post("/access/devices/x/sign-out", url.Values{"confirm": {"1"}}), http.StatusNotFound)
	if a.reload(hank).Devices != 1 || a.reload(ada).Devices != 1 {
		t.Fatal("a refused sign-out signed a device out")
	}
	// Junk ids and too large a selection are clear errors.
	expectStatus(t, c.post("/access/devices/sign-out", url.Values{"ids": {"x"}}), http.StatusBadRequest)
	many := make([]string, 1001)
	for i := range many {
		many[i] = strconv.Itoa(i + 1)
	}
	r2 = c.post("/access/devices/sign-out", url.Values{"ids": many, "confirm": {"1"}})
	expectStatus(t, r2, http.StatusUnprocessableEntity)
	expectBody(t, r2, "at most 1000 devices")
	// Nothing selected: back to the list with a message.
	r2 = c.post("/access/devices/sign-out", url.Values{"state": {"active"}})
	expectStatus(t, r2, http.StatusSeeOther)
	if loc := r2.Header.Get("Location"); loc != "/access/devices?state=active" {
		t.Fatalf("sent to %q", loc)
	}
	// The other account's admin sees only theirs.
	eve := a.client()
	eve.signIn("eve@example.com")
	if got := strings.Join(deviceNames(eve.get("/access/devices").body), ","); got != "Hank secret box" {
		t.Fatalf("globex sees %q", got)
	}
	// A signed-out visitor goes to sign in; a form without its CSRF token is refused.
	anon := a.client().get("/access/devices")
	expectStatus(t, anon, http.StatusSeeOther)
	expectStatus(t, c.postRaw(one, url.Values{"confirm": {"1"}}), http.StatusForbidden)
}

// TestDevicesBulkSignOut: helpdesk staff select devices; the warning names the first five (with
// their users) and counts the rest; confirmed, each active one is signed out with its event, and one signed out
// already is skipped.
func TestDevicesBulkSignOut(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "help@example.com", models.RoleHelpdesk)
	ada := a.activeSDPUser("acme", "ada@example.com")
	grace := a.activeSDPUser("acme", "grace@example.com")
	var ids []string
	var tokens []string
	for i := 1; i <= 7; i++ {
		u := ada
		if i > 5 {
			u = grace
		}
		tok, id := a.register(a.insertCode(u, time.Hour), fmt.Sprintf("Device %d", i))
		ids = append(ids, strconv.FormatInt(id, 10))
		tokens = append(tokens, tok)
	}
	_, keepID := a.register(a.insertCode(grace, time.Hour), "Kept")
	a.execSQL("UPDATE devices SET revoked_at = ?, revoked_reason = 'signed out by the user' WHERE id = ?", time.Now().UTC(), ids[6])
	a.execSQL("UPDATE sdp_users SET devices = devices - 1 WHERE id = ?", grace.ID)

	c := a.client()
	c.signIn("help@example.com")
	page := c.get("/access/devices")
	expectBody(t, page, `data-testid="sign-out-selected"`)
	r := c.post("/access/devices/sign-out", url.Values{"ids": ids, "via": {"code"}})
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="confirm-page"`)
	expectBody(t, r, "Sign out 6 devices?")
	// Newest first, as the list shows them.
	for i := 2; i <= 6; i++ {
		expectBody(t, r, fmt.Sprintf("Device %d", i))
	}
	expectBody(t, r, "<li>Device 6 (grace@example.com)</li><li>Device 5 (ada@example.com)</li>")
	expectBody(t, r, "and 1 more")
	if strings.Contains(r.body, "Device 1") {
		t.Fatal("the warning names more than five devices")
	}
	r = c.post("/access/devices/sign-out", url.Values{"ids": ids, "via": {"code"}, "confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/access/devices?via=code" {
		t.Fatalf("sent to %q", loc)
	}
	for _, tok := range tokens {
		expectAPI(t, a.api("GET", "/api/v1/client/session", tok, nil), http.StatusUnauthorized, "invalid_token")
	}
	listed := c.get("/access/devices")
	expectBody(t, listed, "Signed out 6 devices")
	expectBody(t, listed, "1 was signed out already")
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE sub_type = ? AND type = ? AND actor_label = ?",
		models.SubDeviceSignedOut, string(models.EventDevice), "help@example.com"); n != 6 {
		t.Fatalf("%d Signed Out events, want 6", n)
	}
	if a.reload(ada).Devices != 0 || a.reload(grace).Devices != 1 {
		t.Fatalf("counters %d %d", a.reload(ada).Devices, a.reload(grace).Devices)
	}
	if a.countSQL("SELECT COUNT(*) FROM devices WHERE id = ? AND revoked_at IS NULL", keepID) != 1 {
		t.Fatal("an unselected device was signed out")
	}
	// All of them signed out already: nothing to do, said so, confirmed or not.
	for _, confirm := range []string{"", "1"} {
		r = c.post("/access/devices/sign-out", url.Values{"ids": ids[:2], "confirm": {confirm}})
		expectStatus(t, r, http.StatusSeeOther)
		expectBody(t, c.get(r.Header.Get("Location")), "Nothing to do: those devices are already signed out.")
	}
	if n := a.portalEvents(models.EventDevice, models.SubDeviceSignedOut); n != 6 {
		t.Fatalf("%d Signed Out events after signing out signed-out devices", n)
	}
}

// TestDevicesPages walks the Devices list forwards and back.
func TestDevicesPages(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	u := a.activeSDPUser("acme", "grace@example.com")
	now := time.Now().UTC()
	for i := range 120 {
		a.execSQL(`INSERT INTO devices (account_id, sdp_user_id, name, platform, registered_via, token_hash, registered_at, last_seen_at)
			VALUES (?, ?, ?, 'linux', 'code', ?, ?, ?)`, u.AccountID, u.ID, fmt.Sprintf("Device %03d", i), fmt.Sprintf("hash-%d", i), now, now)
	}
	c := a.client()
	c.signIn("boss@example.com")
	var pages [][]string
	r := c.get("/access/devices?platform=linux")
	for {
		pages = append(pages, deviceNames(r.body))
		next := link(nextLinkRE, r.body)
		if next == "" {
			break
		}
		if !strings.Contains(next, "platform=linux") || len(pages) > 3 {
			t.Fatalf("next link %q", next)
		}
		r = c.get(next)
	}
	if len(pages) != 3 || pages[0][0] != "Device 119" || pages[2][19] != "Device 000" {
		t.Fatalf("%d pages", len(pages))
	}
	r = c.get(link(prevLinkRE, r.body))
	if got := deviceNames(r.body); strings.Join(got, ",") != strings.Join(pages[1], ",") {
		t.Fatalf("back to page 2: %v", got)
	}
	r = c.get(link(prevLinkRE, r.body))
	if got := deviceNames(r.body); strings.Join(got, ",") != strings.Join(pages[0], ",") || link(prevLinkRE, r.body) != "" {
		t.Fatalf("back to page 1: %v", got)
	}
}
