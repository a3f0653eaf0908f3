package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/jobs"
	"onramp/models/services"
	"onramp/models/store/storetest"
	"onramp/models/users"
)

// replicas are two instances of one deployment: two servers, each with its own services and
// database connections, on one database. On SQLite both open the same file (a deployment on
// SQLite runs one instance; the tests of what only replicas on PostgreSQL share say so).
func replicas(t *testing.T, opts ...appOption) (a, b *testApp) {
	t.Helper()
	sa, sb := storetest.OpenReplicas(t)
	a = newAppOn(t, sa, opts...)
	// The instances' clocks are one: the second moves the first's, as a wait for a turn does.
	b = newAppOn(t, sb, append([]appOption{func(_ testing.TB, cfg *services.Config) {
		cfg.Clock = a.clock
		cfg.Sleep = func(_ context.Context, d time.Duration) error { a.advance(d); return nil }
	}}, opts...)...)
	return a, b
}

// on is c's session used on another instance: the same cookies, sent to its server.
func (c *client) on(other *testApp) *client {
	moved := other.client()
	u, _ := url.Parse(other.srv.URL)
	moved.http.Jar.SetCookies(u, c.cookies())
	moved.csrf = c.csrf
	return moved
}

func TestReplicasShareSessions(t *testing.T) {
	t.Parallel()
	a, b := replicas(t)
	a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	c := a.client()
	c.signIn("ada@example.com")
	onB := c.on(b)
	expectStatus(t, onB.get("/access/users"), http.StatusOK)
	// A change posted to the other instance passes its CSRF check, and signing out there ends
	// the session on both.
	expectStatus(t, onB.post("/logout", nil), http.StatusSeeOther)
	r := c.get("/access/users")
	expectStatus(t, r, http.StatusSeeOther)
}

// A code generated on one instance is redeemed at once on both: one registration, the other
// told the code is used.
func TestReplicasRedeemACodeOnce(t *testing.T) {
	t.Parallel()
	a, b := replicas(t)
	a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	c := a.client()
	c.signIn("ada@example.com")
	useRegistrationCodes(t, c)
	u := a.activeSDPUser("acme", "grace@example.com")
	_, shown := c.shownCodes(c.act("generate_code", u.ID))
	if len(shown) != 1 {
		t.Fatalf("%d codes shown", len(shown))
	}
	results := registerAcross(t, shown[0], []*testApp{a, b, a, b})
	if results["201 "] != 1 || results["410 code_used"] != 3 {
		t.Fatalf("redemptions across two instances: %v", results)
	}
}

// failuresBefore429 sends bad codes to the instances in turn and counts the refusals before
// the first 429.
func failuresBefore429(t *testing.T, apps ...*testApp) int {
	t.Helper()
	for n := range 100 {
		r := apps[n%len(apps)].api("POST", "/api/v1/client/register", "", registerBody("AAAA-BBBB-CCCC-DDDD", "laptop"))
		switch r.status {
		case http.StatusTooManyRequests:
			return n
		case http.StatusUnauthorized:
		default:
			t.Fatalf("bad code %d: %d %s", n, r.status, r.raw)
		}
	}
	t.Fatal("no 429 after 100 bad codes")
	return 0
}

// hasty clients come back at once: a wait for a turn passes no time.
func hasty(_ testing.TB, cfg *services.Config) {
	cfg.Sleep = func(context.Context, time.Duration) error { return nil }
}

// The budget of failed redemptions holds across instances: as many bad codes through two as
// through one before the 429.
func TestReplicasShareTheRedemptionBudget(t *testing.T) {
	t.Parallel()
	if storetest.URL() == "" {
		t.Skip("replicas share failure budgets on PostgreSQL; a deployment on SQLite is one instance, which keeps them in memory (models/ratelimit tests the shared buckets on SQLite too)")
	}
	one := failuresBefore429(t, newApp(t, hasty))
	a, b := replicas(t, hasty)
	if two := failuresBefore429(t, a, b); two != one || one < 10 {
		t.Fatalf("%d bad codes through two instances before a 429, %d through one", two, one)
	}
}

// Bad codes sent at once through two instances may overrun the budget by the other instance's
// attempts in flight (a successful redemption writes no bucket: see ratelimit.Limiter.Admit),
// never more, and once they have failed both instances refuse the next.
func TestReplicasBoundConcurrentBadCodes(t *testing.T) {
	t.Parallel()
	if storetest.URL() == "" {
		t.Skip("replicas share failure budgets on PostgreSQL")
	}
	a, b := replicas(t, hasty)
	const perInstance, budget = 8, 11 // a burst of 10 and one turn within the wait
	apps := make([]*testApp, 0, 2*perInstance)
	for range perInstance {
		apps = append(apps, a, b)
	}
	results := registerAcross(t, "AAAA-BBBB-CCCC-DDDD", apps)
	failed, limited := results["401 invalid_code"], results["429 rate_limited"]
	if failed+limited != len(apps) || failed < budget || failed > budget+perInstance {
		t.Fatalf("16 bad codes at once through two instances: %v", results)
	}
	if n := failuresBefore429(t, b, a); n != 0 {
		t.Fatalf("%d more bad codes before a 429", n)
	}
}

// The setup link is one: every instance that starts prints the same one, it works once, and
// after its use no instance prints one.
func TestSetupLinkIsOneAcrossReplicas(t *testing.T) {
	t.Parallel()
	a, b := replicas(t)
	ctx := context.Background()
	first, err := a.Auth.EnsureSetupLink(ctx)
	if err != nil || first == "" {
		t.Fatalf("first link: %q %v", first, err)
	}
	for _, app := range []*testApp{b, a, b} { // restarts of either instance
		if again, err := app.Auth.EnsureSetupLink(ctx); err != nil || again != first {
			t.Fatalf("a restart printed %q (%v), want the live link", again, err)
		}
	}
	c := b.client()
	expectStatus(t, c.get("/setup?token="+first), http.StatusOK)
	r := c.post("/setup?token="+first, url.Values{"account": {"acme"}, "email": {"ada@example.com"}, "name": {"Ada"}, "password": {testPassword}})
	expectStatus(t, r, http.StatusSeeOther)
	expectStatus(t, a.client().get("/setup?token="+first), http.StatusGone)
	if again, err := a.Auth.EnsureSetupLink(ctx); err != nil || again != "" {
		t.Fatalf("after setup: %q %v", again, err)
	}
}

// Instances starting at once make one link between them.
func TestSetupLinkRaceMakesOne(t *testing.T) {
	t.Parallel()
	a, b := replicas(t)
	links := make([]string, 8)
	var wg sync.WaitGroup
	for i := range links {
		wg.Go(func() {
			var err error
			if links[i], err = []*testApp{a, b}[i%2].Auth.EnsureSetupLink(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, l := range links {
		if l != links[0] || l == "" {
			t.Fatalf("instances starting at once printed %q", links)
		}
	}
	if n := a.countSQL("SELECT COUNT(*) FROM one_time_tokens WHERE purpose = 'setup' AND used_at IS NULL"); n != 1 {
		t.Fatalf("%d live setup links", n)
	}
}

// stalledRun starts an action on many users on a and leaves it as a killed server leaves it:
// one batch done, its job running with no worker (attempted ago), the run held by a worker
// whose heartbeat stopped minutes ago. It returns the run's page.
func stalledRun(t *testing.T, a *testApp, c *client, ago time.Duration) (string, int) {
	t.Helper()
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	n := users.InRequestLimit*2 + 10
	a.seedUsers(boss.AccountID, n, nil)
	c.signIn("boss@example.com")
	c.get("/access/users")
	runURL, id := runStarted(t, c.post("/access/users/actions",
		url.Values{"action": {"disable"}, "all_matching": {"1"}, "status": {"enabled"}, "confirm": {"1"}}))
	if err := a.Runs.Attempt(context.Background(), id, 1, 5, 1); err != nil {
		t.Fatal(err)
	}
	a.execSQL("UPDATE runs SET worker = 'job of the killed server', heartbeat_at = ? WHERE id = ?", a.clock().Add(-5*time.Minute), id)
	storetest.AbandonJobs(t, a.store, "runs.work", ago)
	return runURL, n
}

// The server working on a run is killed: the other instance's page says the run stalled, and
// once the rescue window passed (its job was attempted longer ago) its queue rescues the job
// and finishes the run.
func TestStalledRunResumesOnTheOtherInstance(t *testing.T) {
	t.Parallel()
	a, b := replicas(t)
	c := a.client()
	runURL, n := stalledRun(t, a, c, jobs.RescueAfter+time.Minute)
	onB := c.on(b)
	r := onB.get(runURL)
	expectBody(t, r, "Stalled, resuming")
	expectBody(t, r, `data-testid="user-run-stalled"`)
	b.startJobs()
	expectBody(t, onB.waitRunDone(runURL, time.Minute), fmt.Sprintf("Disabled %d users.", n))
	if k := b.eventCount(models.SubUserDisabled); k != n {
		t.Fatalf("%d Disabled events for %d users", k, n)
	}
}

// An admin resumes a stalled run at once, on the other instance, before the queue's rescue is
// due; a run that is not stalled is not resumed twice.
func TestAdminResumesAStalledRun(t *testing.T) {
	t.Parallel()
	a, b := replicas(t)
	c := a.client()
	runURL, n := stalledRun(t, a, c, time.Minute)
	onB := c.on(b)
	r := onB.get(runURL)
	expectBody(t, r, `data-testid="user-run-resume"`)
	b.startJobs()
	action := regexp.MustCompile(`action="(/access/runs/\d+/resume)"`).FindStringSubmatch(r.body)
	if action == nil {
		t.Fatalf("no resume form: %s", snippet(r.body))
	}
	// Without the CSRF token the resume is refused.
	expectStatus(t, onB.postRaw(action[1], nil), http.StatusForbidden)
	r = onB.post(action[1], nil)
	expectStatus(t, r, http.StatusSeeOther)
	if r.Header.Get("Location") != runURL {
		t.Fatalf("resume went to %q", r.Header.Get("Location"))
	}
	expectBody(t, onB.waitRunDone(runURL, time.Minute), fmt.Sprintf("Disabled %d users.", n))
	if k := b.eventCount(models.SubRunResumed); k != 1 {
		t.Fatalf("%d Run Resumed events", k)
	}
	onB.get(runURL)
	r = onB.post(action[1], nil)
	expectStatus(t, r, http.StatusSeeOther)
	if k := b.eventCount(models.SubRunResumed); k != 1 {
		t.Fatalf("a finished run was resumed: %d events", k)
	}
	// Helpdesk staff see the run but get no button, and may not resume.
	b.createAdmin("acme", "hal@example.com", models.RoleHelpdesk)
	h := b.client()
	h.signIn("hal@example.com")
	expectStatus(t, h.get(runURL), http.StatusOK)
	h.get("/access/users")
	expectStatus(t, h.post(action[1], nil), http.StatusForbidden)
}
