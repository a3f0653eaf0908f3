package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/jobs"
	"onramp/models/store/storetest"
	"onramp/models/users"
)

var userRunStatusRE = regexp.MustCompile(`data-testid="user-run" data-status="(\w+)"`)

// largeActionApp is an app whose admin boss@example.com, signed in on the Users page, has more
// users than an action does in a request.
func largeActionApp(t *testing.T) (*testApp, *models.Admin, *client, []*models.SDPUser) {
	t.Helper()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, users.InRequestLimit*2+500, nil)
	c := a.client()
	c.signIn("boss@example.com")
	c.get("/access/users")
	return a, boss, c, us
}

// runStarted is the page and id of the run that a confirmed large action redirected to.
func runStarted(t *testing.T, r response) (string, int64) {
	t.Helper()
	expectStatus(t, r, http.StatusSeeOther)
	runURL := r.Header.Get("Location")
	var id int64
	if _, err := fmt.Sscanf(runURL, "/access/users/runs/%d", &id); err != nil {
		t.Fatalf("redirected to %q", runURL)
	}
	return runURL, id
}

// waitRunDone polls a run's page until it shows the run done, failing the test after within.
func (c *client) waitRunDone(runURL string, within time.Duration) response {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for {
		r := c.get(runURL)
		if r.StatusCode != http.StatusOK {
			c.t.Fatalf("GET %s: %d", runURL, r.StatusCode)
		}
		if m := userRunStatusRE.FindStringSubmatch(r.body); m != nil && m[1] == "done" {
			return r
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the run never finished: %s", snippet(r.body))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// An action over more users than a request should take (all matching the filter, past
// users.InRequestLimit) runs in the background a batch per transaction, resumes after a failed
// attempt without doing anyone twice, and leaves out users created after the confirmation.
func TestLargeUserActionRunsInTheBackground(t *testing.T) {
	t.Parallel()
	a, boss, c, us := largeActionApp(t)
	n := len(us)
	form := url.Values{"action": {"disable"}, "all_matching": {"1"}, "status": {"enabled"}}

	// The warning says the action will run in the background.
	r := c.post("/access/users/actions", form)
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, fmt.Sprintf("Disable: %d users?", n))
	expectBody(t, r, "It runs in the background")

	form.Set("confirm", "1")
	r = c.post("/access/users/actions", form)
	runURL, id := runStarted(t, r)
	r = c.get(runURL)
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `data-testid="user-run" data-status="queued"`)
	expectBody(t, r, `hx-trigger="every 1s"`)
	expectBody(t, r, fmt.Sprintf("0 of %d users done (0%%)", n))
	if got := a.user(boss.AccountID, us[0].ID); got.Status != models.UserEnabled {
		t.Fatal("a user was disabled before the run's job ran")
	}
	// A second large action while this one is open starts nothing and shows the open one.
	other := url.Values{"action": {"enable"}, "all_matching": {"1"}, "confirm": {"1"}}
	r = c.post("/access/users/actions", other)
	expectStatus(t, r, http.StatusSeeOther)
	if r.Header.Get("Location") != runURL {
		t.Fatalf("second action went to %q", r.Header.Get("Location"))
	}
	expectBody(t, c.get(runURL), "Another action on many users is still running")
	if k := a.countSQL("SELECT COUNT(*) FROM runs WHERE kind = ?", string(models.RunUserAction)); k != 1 {
		t.Fatalf("%d runs", k)
	}
	// The Users list says an action is running, and links to it.
	r = c.get("/access/users")
	expectBody(t, r, `data-testid="running-action"`)
	expectBody(t, r, fmt.Sprintf(`href="%s"`, runURL))
	// A user created after the confirmation is not part of it.
	late := a.seedUsers(boss.AccountID, 1, func(_ int, u *models.SDPUser) { u.Email = "late@example.com" })[0]

	ctx := context.Background()
	// One batch (as if the server stopped after it), then an attempt that fails, then one that
	// finishes: every user once.
	if err := a.Runs.Attempt(ctx, id, 1, 5, 1); err != nil {
		t.Fatal(err)
	}
	r = c.get(runURL)
	expectBody(t, r, `data-status="running"`)
	expectBody(t, r, fmt.Sprintf("%d of %d users done", users.InRequestLimit, n))
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := a.Runs.Attempt(cancelled, id, 2, 5, 0); err == nil {
		t.Fatal("a cancelled attempt succeeded")
	}
	expectBody(t, c.get(runURL), "attempt 2 of 5 failed")
	if err := a.Runs.Attempt(ctx, id, 3, 5, 0); err != nil {
		t.Fatal(err)
	}
	r = c.get(runURL)
	if m := userRunStatusRE.FindStringSubmatch(r.body); m == nil || m[1] != "done" || strings.Contains(r.body, "hx-trigger") {
		t.Fatalf("finished page: %s", snippet(r.body))
	}
	expectBody(t, r, fmt.Sprintf("Disabled %d users.", n))
	expectBody(t, r, `data-testid="user-run-back"`)
	if strings.Contains(c.get("/access/users").body, `data-testid="running-action"`) {
		t.Fatal("the Users list still says an action is running")
	}
	for _, u := range []*models.SDPUser{us[0], us[users.InRequestLimit], us[n-1]} {
		if got := a.user(boss.AccountID, u.ID); got.Status != models.UserDisabled {
			t.Fatalf("user %d is %s", u.ID, got.Status)
		}
	}
	if got := a.user(boss.AccountID, late.ID); got.Status != models.UserEnabled {
		t.Fatal("a user created after the confirmation was disabled")
	}
	if k := a.eventCount(models.SubUserDisabled); k != n {
		t.Fatalf("%d Disabled events for %d users", k, n)
	}

	// The page is the account's: another account's admin gets 404, and so does a code
	// generation's id.
	a.createAdmin("globex", "hank@globex.example", models.RoleAdmin)
	stranger := a.client()
	stranger.signIn("hank@globex.example")
	expectStatus(t, stranger.get(runURL), http.StatusNotFound)
	genID := a.countSQL("SELECT COALESCE(MAX(id), 0) FROM runs") + 1
	a.execSQL(`INSERT INTO runs (id, account_id, kind, status, total, max_user_id, actor_type, created_at, updated_at)
		VALUES (?, ?, 'generate_codes', 'done', 0, 0, 'admin', ?, ?)`, genID, boss.AccountID, a.clock(), a.clock())
	expectStatus(t, c.get(fmt.Sprintf("/access/users/runs/%d", genID)), http.StatusNotFound)
	expectStatus(t, c.get("/access/users/runs/x"), http.StatusNotFound)
}

// The runs' worker is wired into the job queue: a large action finishes on its own, and the
// page's fragment (what htmx polls) shows the result.
func TestLargeUserActionFinishesThroughTheQueue(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleHelpdesk)
	n := users.InRequestLimit + 10
	a.seedUsers(boss.AccountID, n, nil)
	a.startJobs()
	c := a.client()
	c.signIn("boss@example.com")
	c.get("/access/users")
	r := c.post("/access/users/actions", url.Values{"action": {"generate_code"}, "all_matching": {"1"}, "confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	runURL := r.Header.Get("Location")
	c.header.Set("HX-Request", "true")
	r = c.waitRunDone(runURL, 30*time.Second)
	if strings.Contains(r.body, "<html") {
		t.Fatal("htmx got a whole page instead of the progress block")
	}
	expectBody(t, r, fmt.Sprintf("Generated a registration code for %d users.", n))
	if k := a.eventCount(models.SubCodeGenerated); k != n {
		t.Fatalf("%d codes generated for %d users", k, n)
	}
}

// The server is killed (kill -9) during a large action: its job stays running with no worker.
// The next server's River client rescues it within the rescue window, and the run resumes after
// its last committed batch: every user once, nobody twice.
func TestKilledRunIsRescuedAndResumes(t *testing.T) {
	t.Parallel()
	a, boss, c, us := largeActionApp(t)
	n := len(us)
	runURL, id := runStarted(t, c.post("/access/users/actions",
		url.Values{"action": {"disable"}, "all_matching": {"1"}, "status": {"enabled"}, "confirm": {"1"}}))
	// The killed server's attempt committed one batch; its job is left running, attempted just
	// over the rescue window ago.
	if err := a.Runs.Attempt(context.Background(), id, 1, 5, 1); err != nil {
		t.Fatal(err)
	}
	storetest.AbandonJobs(t, a.store, "runs.work", jobs.RescueAfter+time.Minute)
	expectBody(t, c.get(runURL), fmt.Sprintf("%d of %d users done", users.InRequestLimit, n))

	a.startJobs() // the next server
	expectBody(t, c.waitRunDone(runURL, time.Minute), fmt.Sprintf("Disabled %d users.", n))
	if k := a.eventCount(models.SubUserDisabled); k != n {
		t.Fatalf("%d Disabled events for %d users", k, n)
	}
	if k := a.countSQL("SELECT COUNT(*) FROM sdp_users WHERE status = ?", string(models.UserDisabled)); k != n {
		t.Fatalf("%d of %d users disabled", k, n)
	}
	for _, u := range []*models.SDPUser{us[0], us[n-1]} {
		if got := a.user(boss.AccountID, u.ID); got.Status != models.UserDisabled {
			t.Fatalf("user %d is %s", u.ID, got.Status)
		}
	}
	// The rescued job ran once more: the killed attempt, then the one that finished (River
	// records its end just after the run's).
	deadline := time.Now().Add(10 * time.Second)
	for a.countSQL("SELECT COUNT(*) FROM river_job WHERE kind = 'runs.work' AND state = 'completed'") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the run's job never completed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if k := a.countSQL("SELECT attempt FROM river_job WHERE kind = 'runs.work'"); k != 2 {
		t.Fatalf("the run's job finished on attempt %d, want 2", k)
	}
}
