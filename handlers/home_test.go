package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"onramp/models"
)

// The Overview: Getting started steps that tick themselves from the account's data, only those
// the viewer's role can do, and the account's counts with links to the filtered lists.

var stepRE = regexp.MustCompile(`<li class="([^"]*)" data-testid="step-([a-z-]+)"`)

// steps maps each Getting started step shown to whether it is ticked.
func steps(t *testing.T, r response) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, m := range stepRE.FindAllStringSubmatch(r.body, -1) {
		out[m[2]] = strings.Contains(m[1], "done")
	}
	return out
}

func statOf(t *testing.T, r response, key string) string {
	t.Helper()
	m := regexp.MustCompile(`data-testid="count-` + key + `"[^>]*>([^<]+)<`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no count %s\n%s", key, snippet(r.body))
	}
	return strings.TrimSpace(m[1])
}

func TestOverviewStepsAndCounts(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	c := a.client()
	c.signIn("boss@example.com")

	home := c.get("/")
	expectStatus(t, home, http.StatusOK)
	want := map[string]bool{"account": true, "colleagues": false, "method": false, "users": false, "access": false, "device": false}
	if got := steps(t, home); !equalSteps(got, want) {
		t.Fatalf("fresh account steps %v, want %v", got, want)
	}
	expectBody(t, home, "1 of 6 done")
	for _, k := range []string{"enabled", "disabled", "new", "invitation_sent", "active", "codes", "devices", "held", "failed"} {
		if got := statOf(t, home, k); got != "0" {
			t.Fatalf("count %s = %q on a fresh account", k, got)
		}
	}

	// Each step ticks itself from what was done.
	a.createAdmin("acme", "help@example.com", models.RoleHelpdesk)
	c.get("/access/directory-services/provisioning")
	expectStatus(t, c.post("/access/directory-services/provisioning", url.Values{"method": {"invitation_email"}, "invite_manual": {"on"},
		"code_expiry_value": {"7"}, "code_expiry_unit": {"days"}}), http.StatusSeeOther)
	if _, err := a.Users.Create(t.Context(), boss, "", usersInput("grace@example.com")); err != nil { // invited: its mail is held
		t.Fatal(err)
	}
	home = c.get("/")
	want = map[string]bool{"account": true, "colleagues": true, "method": true, "users": true, "access": true, "device": false}
	if got := steps(t, home); !equalSteps(got, want) {
		t.Fatalf("steps %v, want %v", got, want)
	}
	expectBody(t, home, "5 of 6 done")

	// Counts: users by status and activation, active codes, active devices, held and failed mail.
	a.seedUsers(boss.AccountID, 7, func(i int, u *models.SDPUser) {
		switch {
		case i < 2:
			u.Status = models.UserDisabled
		case i < 5:
			u.Activation = models.ActivationActive
		}
	})
	ada := a.activeSDPUser("acme", "ada@example.com")
	a.insertCode(ada, time.Hour)
	a.insertCode(ada, -time.Hour) // expired: not counted
	_, laptop := a.register(a.insertCode(ada, time.Hour), "Ada laptop")
	a.register(a.insertCode(ada, time.Hour), "Ada phone")
	a.execSQL("UPDATE devices SET revoked_at = ? WHERE id = ?", time.Now().UTC(), laptop)
	a.execSQL("UPDATE mail_messages SET status = 'failed' WHERE to_email = ?", "grace@example.com")
	// Another account's data is not counted.
	a.createAdmin("globex", "eve@example.com", models.RoleAdmin)
	hank := a.activeSDPUser("globex", "hank@globex.example")
	a.register(a.insertCode(hank, time.Hour), "Hank laptop")

	home = c.get("/")
	for k, v := range map[string]string{"enabled": "7", "disabled": "2", "new": "4", "invitation_sent": "1", "active": "4",
		"codes": "1", "devices": "1", "held": "0", "failed": "1"} {
		if got := statOf(t, home, k); got != v {
			t.Errorf("count %s = %q, want %q", k, got, v)
		}
	}
	if got := steps(t, home); !got["device"] {
		t.Fatal("the device step is not ticked once a device registered")
	}
	expectBody(t, home, "All 6 steps done")
	for _, link := range []string{`href="/access/users?status=enabled"`, `href="/access/users?status=disabled"`,
		`href="/access/users?activation=invitation_sent"`, `href="/access/devices?state=active"`, `href="/outbox"`} {
		expectBody(t, home, link)
	}

	// Helpdesk staff see the steps they can do and the counts, without the admin-only links.
	h := a.client()
	h.signIn("help@example.com")
	home = h.get("/")
	if got := steps(t, home); !equalSteps(got, map[string]bool{"account": true, "access": true, "device": true}) {
		t.Fatalf("helpdesk steps %v", got)
	}
	if got := statOf(t, home, "failed"); got != "1" {
		t.Fatalf("helpdesk failed count %q", got)
	}
	if strings.Contains(home.body, `href="/outbox"`) || strings.Contains(home.body, `href="/settings/administrators"`) {
		t.Fatal("helpdesk is shown an admin-only link")
	}
}

func equalSteps(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
