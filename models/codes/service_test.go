package codes_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/codes"
	"onramp/models/jobs"
	"onramp/models/runs"
	"onramp/models/secret"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

type fixture struct {
	t       *testing.T
	store   *store.Store
	svc     *codes.Service
	runs    *runs.Runner
	boss    *models.Admin
	help    *models.Admin
	account *models.Account

	mu  sync.Mutex
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, store: storetest.Open(t), now: time.Now().UTC()}
	// The job queue is never started: a test calls the run's attempts itself.
	j, err := jobs.New(f.store, jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	f.runs = runs.New(f.store, j, nil).WithClock(f.clock)
	f.svc = codes.NewService(f.store, secret.NewKeys([]byte("test-secret-test-secret-test-secret!")), j, f.runs, codes.Config{RunBatch: 1000}).WithClock(f.clock)
	f.account = models.NewAccount("acme")
	if err := f.store.CreateAccount(ctx, f.account); err != nil {
		t.Fatal(err)
	}
	f.boss = f.admin("boss@example.com", models.RoleAdmin)
	f.help = f.admin("help@example.com", models.RoleHelpdesk)
	return f
}

func (f *fixture) admin(email string, role models.Role) *models.Admin {
	f.t.Helper()
	a := &models.Admin{AccountID: f.account.ID, Email: email, Name: email, Role: role, Status: models.AdminActive}
	if err := f.store.CreateAdmin(context.Background(), a); err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// seed inserts n enabled users; tweak may change each first.
func (f *fixture) seed(n int, tweak func(i int, u *models.SDPUser)) []*models.SDPUser {
	f.t.Helper()
	us := make([]*models.SDPUser, n)
	for i := range us {
		us[i] = &models.SDPUser{AccountID: f.account.ID, FirstName: fmt.Sprintf("First%05d", i), LastName: fmt.Sprintf("Last%05d", i),
			Email: fmt.Sprintf("user%05d@example.com", i), Origin: models.OriginManual, Status: models.UserEnabled, Activation: models.ActivationNew}
		if tweak != nil {
			tweak(i, us[i])
		}
	}
	// Fifty per INSERT: SQLite's driver binds parameters in quadratic time, slow under -race.
	for start := 0; start < n; start += 50 {
		if err := f.store.CreateUsers(context.Background(), us[start:min(start+50, n)]); err != nil {
			f.t.Fatal(err)
		}
	}
	return us
}

func (f *fixture) user(id int64) *models.SDPUser {
	f.t.Helper()
	u, err := f.store.User(context.Background(), f.account.ID, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return u
}

func (f *fixture) codes(userID int64) []store.UserCode {
	f.t.Helper()
	cs, err := f.store.UserCodes(context.Background(), f.account.ID, userID, 1000)
	if err != nil {
		f.t.Fatal(err)
	}
	return cs
}

// count runs a COUNT(*) query written with literal values.
func (f *fixture) count(query string) int {
	f.t.Helper()
	var n int
	if err := f.store.SQLDB().QueryRow(query).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (f *fixture) events(sub string) int {
	return f.count(fmt.Sprintf("SELECT COUNT(*) FROM events WHERE type = 'Registration Code' AND sub_type = '%s'", sub))
}

func (f *fixture) exec(query string, args ...any) {
	f.t.Helper()
	err := f.store.Tx(context.Background(), func(tx *store.Store) error {
		sqlTx, _ := tx.SQLTx()
		_, err := sqlTx.Exec(query, args...)
		return err
	})
	if err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
}

func ids(us []*models.SDPUser) []int64 {
	out := make([]int64, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

func TestGenerateForSelectedUsers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	us := f.seed(4, func(i int, u *models.SDPUser) {
		if i == 3 {
			u.Status = models.UserDisabled
		}
	})
	// Helpdesk staff may generate codes for selected users.
	res, err := f.svc.GenerateForUsers(ctx, f.help, "10.0.0.1", ids(us))
	if err != nil {
		t.Fatal(err)
	}
	if res.Generated != 3 || res.Skipped != 1 {
		t.Fatalf("result %+v", res)
	}
	sealer := f.svc.Sealer()
	var texts []string
	for _, u := range us[:3] {
		got := f.user(u.ID)
		if !got.HadCode || got.ActiveCodes != 1 {
			t.Fatalf("user %d: had_code %v active_codes %d", u.ID, got.HadCode, got.ActiveCodes)
		}
		cs := f.codes(u.ID)
		if len(cs) != 1 {
			t.Fatalf("user %d has %d codes", u.ID, len(cs))
		}
		c := cs[0]
		text, err := sealer.Open(f.account.ID, c.Encrypted)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := codes.Normalize(text); err != nil || sealer.Lookup(text) != c.LookupHash {
			t.Fatalf("code %q does not match its lookup hash (%v)", text, err)
		}
		if c.GeneratedBy != models.GeneratedByHelpdesk || c.GeneratedByAdminID == nil || *c.GeneratedByAdminID != f.help.ID || c.AdminEmail != "help@example.com" {
			t.Fatalf("generated by %q %v %q", c.GeneratedBy, c.GeneratedByAdminID, c.AdminEmail)
		}
		if want := f.now.Add(168 * time.Hour); c.ExpiresAt.Sub(want).Abs() > time.Millisecond { // PostgreSQL keeps microseconds
			t.Fatalf("expires %v, want %v", c.ExpiresAt, want)
		}
		if c.State(f.now) != models.CodeActive {
			t.Fatalf("state %s", c.State(f.now))
		}
		texts = append(texts, text)
	}
	if d := f.user(us[3].ID); d.HadCode || len(f.codes(us[3].ID)) != 0 {
		t.Fatal("a disabled user got a code")
	}
	if n := f.events(models.SubCodeGenerated); n != 3 {
		t.Fatalf("%d Generated events", n)
	}
	// Never the code text in an event.
	rows, err := f.store.SQLDB().Query("SELECT details || email || actor_label FROM events")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		for _, text := range texts {
			if strings.Contains(s, text) || strings.Contains(s, codes.Format(text)) {
				t.Fatalf("an event holds a code: %s", s)
			}
		}
	}

	// Selected again: one more code each (one code per device).
	if _, err := f.svc.GenerateForUsers(ctx, f.boss, "", ids(us[:1])); err != nil {
		t.Fatal(err)
	}
	if got := f.user(us[0].ID); got.ActiveCodes != 2 || len(f.codes(us[0].ID)) != 2 {
		t.Fatalf("second code: active_codes %d", got.ActiveCodes)
	}
	// Another account's ids are not found.
	other := models.NewAccount("globex")
	if err := f.store.CreateAccount(ctx, other); err != nil {
		t.Fatal(err)
	}
	stranger := &models.Admin{AccountID: other.ID, Email: "x@globex.example", Name: "X", Role: models.RoleAdmin, Status: models.AdminActive}
	if err := f.store.CreateAdmin(ctx, stranger); err != nil {
		t.Fatal(err)
	}
	if res, err := f.svc.GenerateForUsers(ctx, stranger, "", ids(us)); err != nil || res.Generated != 0 || res.Skipped != 0 {
		t.Fatalf("another account generated: %+v %v", res, err)
	}
}

func TestGenerateForNewUsers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	us := f.seed(10, func(i int, u *models.SDPUser) {
		if i >= 8 {
			u.Status = models.UserDisabled // never had a code, but disabled: skipped
		}
	})
	// Users 0 and 1 have (or had) a code already.
	if _, err := f.svc.GenerateForUsers(ctx, f.boss, "", ids(us[:2])); err != nil {
		t.Fatal(err)
	}
	f.exec("UPDATE registration_codes SET revoked_at = created_at, encrypted = '' WHERE sdp_user_id = $1", us[1].ID)
	// Users with MFA are counted apart, those that had a code not at all.
	mfa := f.seed(3, func(i int, u *models.SDPUser) { u.Email, u.MFAConfigured = fmt.Sprintf("mfa%d@example.com", i), true })
	f.exec("INSERT INTO registration_codes (account_id, sdp_user_id, lookup_hash, encrypted, generated_by, created_at, expires_at) VALUES ($1, $2, 'mfa-code', '', 'admin', $3, $3)",
		f.account.ID, mfa[0].ID, f.now)

	n, err := f.svc.CountNewUsers(ctx, f.boss)
	if err != nil || n != 6 {
		t.Fatalf("count %d %v", n, err)
	}
	if ov, err := f.svc.Overview(ctx, f.boss); err != nil || ov.NewUsers != 6 || ov.SkippedMFA != 2 {
		t.Fatalf("overview: %d new users, %d skipped for MFA (%v), want 6 and 2", ov.NewUsers, ov.SkippedMFA, err)
	}
	if _, err := f.svc.StartRun(ctx, f.help, ""); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("helpdesk started a run: %v", err)
	}
	run, err := f.svc.StartRun(ctx, f.boss, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	var jobsQueued int
	if err := f.store.SQLDB().QueryRow("SELECT COUNT(*) FROM river_job WHERE kind = 'runs.work'").Scan(&jobsQueued); err != nil {
		t.Fatal(err)
	}
	if run.Status != models.RunQueued || run.Total != 6 || jobsQueued != 1 {
		t.Fatalf("run %+v, %d jobs", run, jobsQueued)
	}
	// One run per account at a time.
	again, err := f.svc.StartRun(ctx, f.boss, "")
	if !errors.Is(err, codes.ErrRunInProgress) || again == nil || again.ID != run.ID {
		t.Fatalf("second start: %+v %v", again, err)
	}
	// A user created after the click is not part of the run.
	late := f.seed(1, func(_ int, u *models.SDPUser) { u.Email = "late@example.com" })[0]

	if err := f.runs.Attempt(ctx, run.ID, 1, 5, 0); err != nil {
		t.Fatal(err)
	}
	run, _ = f.svc.Run(ctx, f.boss, run.ID)
	if run.Status != models.RunDone || run.Done != 6 || run.Percent() != 100 || run.FinishedAt == nil || run.StartedAt == nil {
		t.Fatalf("finished run %+v", run)
	}
	for i, u := range us {
		cs := f.codes(u.ID)
		switch {
		case i < 2: // had a code: untouched
			if len(cs) != 1 || cs[0].GeneratedBy != models.GeneratedByAdmin {
				t.Fatalf("user %d: %d codes", i, len(cs))
			}
		case i < 8:
			if len(cs) != 1 || cs[0].GeneratedBy != models.GeneratedByBulk || cs[0].AdminEmail != "boss@example.com" {
				t.Fatalf("user %d: %+v", i, cs)
			}
			if got := f.user(u.ID); !got.HadCode || got.ActiveCodes != 1 {
				t.Fatalf("user %d counters %v %d", i, got.HadCode, got.ActiveCodes)
			}
		default:
			if len(cs) != 0 {
				t.Fatalf("disabled user %d got a code", i)
			}
		}
	}
	if len(f.codes(late.ID)) != 0 {
		t.Fatal("a user created after the click got a code")
	}
	if n := f.events(models.SubCodeGenerated); n != 2+6 {
		t.Fatalf("%d Generated events", n)
	}
	// The next run takes the late user only; with nobody left, nothing to do.
	run2, err := f.svc.StartRun(ctx, f.boss, "")
	if err != nil || run2.Total != 1 {
		t.Fatalf("second run %+v %v", run2, err)
	}
	if err := f.runs.Attempt(ctx, run2.ID, 1, 5, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.StartRun(ctx, f.boss, ""); !errors.Is(err, codes.ErrNothingToGenerate) {
		t.Fatalf("third run: %v", err)
	}
	if n := f.count("SELECT COUNT(*) FROM registration_codes"); n != 2+1+6+1 { // the MFA user's code too
		t.Fatalf("%d codes", n)
	}
}

// A user given a code while a run's batch waits for their lock gets no second one: the batch
// looks for their codes after the lock is granted (on SQLite, after the other transaction).
func TestGenerationRunSkipsAUserGivenACodeMeanwhile(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	us := f.seed(4, nil)
	run, err := f.svc.StartRun(ctx, f.boss, "")
	if err != nil || run.Total != 4 {
		t.Fatalf("run %+v %v", run, err)
	}
	err = storetest.WhileHeld(t, f.store, func(tx *store.Store) error {
		locked, err := tx.UsersByIDs(ctx, f.account.ID, ids(us[:1]))
		if err != nil {
			return err
		}
		_, err = f.svc.IssueForUsers(ctx, tx, f.account, locked, codes.Issue{Who: models.AdminActor(f.boss, "")})
		return err
	}, func() error { return f.runs.Attempt(ctx, run.ID, 1, 5, 0) })
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range us {
		if cs := f.codes(u.ID); len(cs) != 1 {
			t.Fatalf("user %d has %d codes, want 1", i, len(cs))
		}
	}
	if run, _ = f.svc.Run(ctx, f.boss, run.ID); run.Status != models.RunDone || run.Affected != 3 {
		t.Fatalf("run %+v: want done, 3 users given a code", run)
	}
}

// A run stopped half-way (a crash after some batches) continues with the users still without a
// code when its job runs again, and nobody gets two codes.
func TestGenerationRunResumes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.seed(2100, nil)
	run, err := f.svc.StartRun(ctx, f.boss, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.runs.Attempt(ctx, run.ID, 1, 5, 2); err != nil {
		t.Fatal(err)
	}
	run, _ = f.svc.Run(ctx, f.boss, run.ID)
	if run.Status != models.RunRunning || run.Done != 2000 || run.Percent() != 95 {
		t.Fatalf("after two batches: %+v", run)
	}
	if n, _ := f.svc.CountNewUsers(ctx, f.boss); n != 100 {
		t.Fatalf("%d users left", n)
	}
	// An attempt that fails (here: its context ends) records the error and leaves the run open
	// while attempts remain.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := f.runs.Attempt(cancelled, run.ID, 2, 5, 0); err == nil {
		t.Fatal("a cancelled attempt succeeded")
	}
	run, _ = f.svc.Run(ctx, f.boss, run.ID)
	if run.Status != models.RunRunning || !strings.Contains(run.Error, "attempt 2 of 5 failed") {
		t.Fatalf("after a failed attempt: %+v", run)
	}
	// The next attempt resumes.
	if err := f.runs.Attempt(ctx, run.ID, 3, 5, 0); err != nil {
		t.Fatal(err)
	}
	run, _ = f.svc.Run(ctx, f.boss, run.ID)
	if run.Status != models.RunDone || run.Done != 2100 || run.Error != "" {
		t.Fatalf("resumed run %+v", run)
	}
	if n := f.count("SELECT COUNT(*) FROM registration_codes"); n != 2100 {
		t.Fatalf("%d codes for 2100 users", n)
	}
	if n := f.count("SELECT COUNT(*) FROM (SELECT sdp_user_id FROM registration_codes GROUP BY sdp_user_id HAVING COUNT(*) > 1) d"); n != 0 {
		t.Fatalf("%d users with two codes", n)
	}
	if n := f.events(models.SubCodeGenerated); n != 2100 {
		t.Fatalf("%d events", n)
	}
	// A job run again after the run finished does nothing.
	if err := f.runs.Attempt(ctx, run.ID, 4, 5, 0); err != nil {
		t.Fatal(err)
	}
	if n := f.count("SELECT COUNT(*) FROM registration_codes"); n != 2100 {
		t.Fatalf("%d codes after a late attempt", n)
	}
}

func TestRunFailsAfterTheLastAttempt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.seed(3, nil)
	run, err := f.svc.StartRun(ctx, f.boss, "")
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := f.runs.Attempt(cancelled, run.ID, 5, 5, 0); err == nil {
		t.Fatal("no error")
	}
	run, _ = f.svc.Run(ctx, f.boss, run.ID)
	if run.Status != models.RunFailed || run.FinishedAt == nil || !strings.Contains(run.Error, "attempt 5 of 5 failed") {
		t.Fatalf("failed run %+v", run)
	}
	// Failed is not open: a new click starts a new run, which does the rest.
	run2, err := f.svc.StartRun(ctx, f.boss, "")
	if err != nil || run2.ID == run.ID || run2.Total != 3 {
		t.Fatalf("restart %+v %v", run2, err)
	}
}

// A run whose job was lost (no progress for longer than a killed attempt takes to be rescued
// and retried) no longer blocks the account: the next click marks it failed and starts anew.
func TestStaleRunIsReplaced(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.seed(3, nil)
	run, err := f.svc.StartRun(ctx, f.boss, "")
	if err != nil {
		t.Fatal(err)
	}
	f.advance(15 * time.Minute)
	if again, err := f.svc.StartRun(ctx, f.boss, ""); !errors.Is(err, codes.ErrRunInProgress) || again.ID != run.ID {
		t.Fatalf("15 minutes later: %+v %v", again, err)
	}
	f.advance(20 * time.Minute)
	run2, err := f.svc.StartRun(ctx, f.boss, "")
	if err != nil || run2.ID == run.ID {
		t.Fatalf("35 minutes later: %+v %v", run2, err)
	}
	old, _ := f.svc.Run(ctx, f.boss, run.ID)
	if old.Status != models.RunFailed || !strings.Contains(old.Error, "stopped making progress") || old.FinishedAt == nil {
		t.Fatalf("the stale run: %+v", old)
	}
}

func TestRevokeForUsers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	us := f.seed(2, nil)
	for range 4 {
		if _, err := f.svc.GenerateForUsers(ctx, f.boss, "", ids(us[:1])); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.GenerateForUsers(ctx, f.boss, "", ids(us[1:])); err != nil {
		t.Fatal(err)
	}
	cs := f.codes(us[0].ID) // newest first
	// One used (its copy wiped when redeemed), one expired but not yet wiped by the job.
	f.exec("UPDATE registration_codes SET used_at = $1, encrypted = '' WHERE id = $2", f.now, cs[0].ID)
	f.exec("UPDATE registration_codes SET expires_at = $1 WHERE id = $2", f.now.Add(-time.Minute), cs[1].ID)

	who := models.AdminActor(f.help, "10.0.0.9")
	err := f.store.Tx(ctx, func(tx *store.Store) error {
		return codes.RevokeForUsersAt(ctx, tx, f.account.ID, []int64{us[0].ID}, who, f.now)
	})
	if err != nil {
		t.Fatal(err)
	}
	states := map[models.CodeState]int{}
	for _, c := range f.codes(us[0].ID) {
		states[c.State(f.now)]++
		if c.Encrypted != "" {
			t.Fatalf("code %d keeps its encrypted copy", c.ID)
		}
	}
	if states[models.CodeRevoked] != 2 || states[models.CodeUsed] != 1 || states[models.CodeExpired] != 1 {
		t.Fatalf("states %v", states)
	}
	if got := f.user(us[0].ID); got.ActiveCodes != 0 || !got.HadCode {
		t.Fatalf("counters %d %v", got.ActiveCodes, got.HadCode)
	}
	if n := f.events(models.SubCodeRevoked); n != 2 {
		t.Fatalf("%d Revoked events", n)
	}
	if n := f.count("SELECT COUNT(*) FROM events WHERE sub_type = 'Revoked' AND email = 'user00000@example.com' AND actor_label = 'help@example.com' AND source_ip = '10.0.0.9'"); n != 2 {
		t.Fatalf("%d Revoked events name the user and the actor", n)
	}
	// The other user is untouched.
	if got := f.user(us[1].ID); got.ActiveCodes != 1 || f.codes(us[1].ID)[0].State(f.now) != models.CodeActive {
		t.Fatal("another user's code was revoked")
	}
}

func TestExpireCodes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.account.CodeExpiryHours, f.account.CodeExpiryUnit = 2, "hours"
	if err := f.store.SaveProvisioning(ctx, f.account); err != nil {
		t.Fatal(err)
	}
	us := f.seed(3, nil)
	if _, err := f.svc.GenerateForUsers(ctx, f.boss, "", ids(us)); err != nil {
		t.Fatal(err)
	}
	f.advance(time.Hour)
	if _, err := f.svc.GenerateForUsers(ctx, f.boss, "", ids(us[:1])); err != nil {
		t.Fatal(err)
	}
	if n, err := f.svc.ExpireCodes(ctx); err != nil || n != 0 {
		t.Fatalf("nothing expired yet: %d %v", n, err)
	}
	f.advance(time.Hour + time.Second) // the first three expired, the fourth has an hour left
	n, err := f.svc.ExpireCodes(ctx)
	if err != nil || n != 3 {
		t.Fatalf("expired %d %v", n, err)
	}
	if got := f.user(us[0].ID); got.ActiveCodes != 1 {
		t.Fatalf("user 0 active_codes %d", got.ActiveCodes)
	}
	for _, u := range us[1:] {
		if got := f.user(u.ID); got.ActiveCodes != 0 {
			t.Fatalf("user %d active_codes %d", u.ID, got.ActiveCodes)
		}
	}
	if n := f.count("SELECT COUNT(*) FROM registration_codes WHERE encrypted <> ''"); n != 1 {
		t.Fatalf("%d encrypted copies left", n)
	}
	if n, _ := f.svc.ExpireCodes(ctx); n != 0 {
		t.Fatalf("expired %d twice", n)
	}
}

// csvOf downloads the actor's CSV through the service.
func csvOf(t *testing.T, f *fixture, actor *models.Admin) (string, int) {
	t.Helper()
	var buf bytes.Buffer
	flushes := 0
	n, err := f.svc.WriteCSV(context.Background(), actor, "10.0.0.1", &buf, func() error { flushes++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if flushes == 0 {
		t.Fatal("never flushed")
	}
	return buf.String(), n
}

func TestWriteCSV(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	us := f.seed(6, func(i int, u *models.SDPUser) {
		switch i {
		case 0:
			u.FirstName, u.LastName = "=HYPERLINK(\"http://evil.example\")", "O'Brien, Jr."
		case 1:
			u.FirstName, u.LastName = "Zoë", "Ünal \"Zed\""
		case 2:
			u.FirstName = "+1"
		}
	})
	if _, err := f.svc.GenerateForUsers(ctx, f.boss, "", ids(us)); err != nil {
		t.Fatal(err)
	}
	cs := map[int][]store.UserCode{}
	for i, u := range us {
		cs[i] = f.codes(u.ID)
	}
	f.exec("UPDATE registration_codes SET used_at = $1, encrypted = '' WHERE id = $2", f.now, cs[3][0].ID)
	f.exec("UPDATE registration_codes SET revoked_at = $1, encrypted = '' WHERE id = $2", f.now, cs[4][0].ID)
	// Expired: still holding its copy (the job has not run) but past its time.
	f.exec("UPDATE registration_codes SET expires_at = $1 WHERE id = $2", f.now.Add(-time.Second), cs[5][0].ID)

	out, n := csvOf(t, f, f.boss)
	if n != 3 {
		t.Fatalf("%d rows\n%s", n, out)
	}
	if !strings.HasPrefix(out, "First Name,Last Name,Email,Registration Code,Expires At\r\n") {
		t.Fatalf("header: %q", out)
	}
	if !strings.Contains(out, "\"'=HYPERLINK(\"\"http://evil.example\"\")\",\"O'Brien, Jr.\",user00000@example.com,") {
		t.Fatalf("formula or quoting:\n%s", out)
	}
	if !strings.Contains(out, "Zoë,\"Ünal \"\"Zed\"\"\",user00001@example.com,") || !strings.Contains(out, "'+1,Last00002,") {
		t.Fatalf("UTF-8 or quoting:\n%s", out)
	}
	records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	sealer := f.svc.Sealer()
	for i, rec := range records[1:] {
		c := cs[i][0]
		text, _ := sealer.Open(f.account.ID, c.Encrypted)
		if rec[2] != us[i].Email || rec[3] != codes.Format(text) || rec[4] != c.ExpiresAt.UTC().Format(time.RFC3339) {
			t.Fatalf("row %d: %v (code %s, expires %s)", i, rec, codes.Format(text), c.ExpiresAt)
		}
		if len(rec[3]) != 19 || strings.Count(rec[3], "-") != 3 || !strings.HasSuffix(rec[4], "Z") {
			t.Fatalf("row %d format: %v", i, rec)
		}
	}
	for _, email := range []string{"user00003@", "user00004@", "user00005@"} {
		if strings.Contains(out, email) {
			t.Fatalf("%s (used, revoked or expired) is listed", email)
		}
	}
	if n := f.count("SELECT COUNT(*) FROM events WHERE sub_type = 'Downloaded' AND actor_label = 'boss@example.com' AND details LIKE '%\"rows\":\"3\"%'"); n != 1 {
		t.Fatalf("%d Downloaded events", n)
	}
	// Helpdesk staff may not download the codes.
	if _, err := f.svc.WriteCSV(ctx, f.help, "", &bytes.Buffer{}, func() error { return nil }); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("helpdesk: %v", err)
	}
	if got := f.svc.ExportFilename("acme"); got != "registration-codes-acme-"+f.now.Format("2006-01-02")+".csv" {
		t.Fatalf("filename %q", got)
	}
}

// The CSV reads its rows a batch at a time: more rows than a batch all come out, in order.
func TestWriteCSVManyRows(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.seed(1050, nil)
	run, err := f.svc.StartRun(ctx, f.boss, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.runs.Attempt(ctx, run.ID, 1, 5, 0); err != nil {
		t.Fatal(err)
	}
	out, n := csvOf(t, f, f.boss)
	if n != 1050 || strings.Count(out, "\r\n") != 1051 {
		t.Fatalf("%d rows", n)
	}
	if !strings.Contains(out, "user01049@example.com") {
		t.Fatal("the last row is missing")
	}
}

// IssueForNewUsers is the Registration Code method's rule for users just created (in the console,
// and by directory imports): a code each, in the creating transaction, except for users with
// MFA or disabled; under the Invitation Email method, none.
func TestIssueForNewUsersFollowsTheMethodAndSkipsMFA(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	us := f.seed(3, func(i int, u *models.SDPUser) {
		u.MFAConfigured = i == 1
		if i == 2 {
			u.Status = models.UserDisabled
		}
	})
	list := make([]models.SDPUser, len(us))
	for i, u := range us {
		list[i] = *u
	}
	who := models.AdminActor(f.boss, "")
	issue := func() codes.Result {
		t.Helper()
		var res codes.Result
		err := f.store.Tx(t.Context(), func(tx *store.Store) error {
			account, err := tx.Account(t.Context(), f.account.ID)
			if err != nil {
				return err
			}
			res, err = f.svc.IssueForNewUsers(t.Context(), tx, account, list, codes.Issue{Who: who})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := issue(); res != (codes.Result{}) || f.events(models.SubCodeGenerated) != 0 {
		t.Fatalf("under the Invitation Email method: %+v", res)
	}
	f.exec(`UPDATE accounts SET provisioning_method = 'registration_code'`)
	if res := issue(); res != (codes.Result{Generated: 1, Skipped: 2, SkippedMFA: 1}) {
		t.Fatalf("result %+v", res)
	}
	if cs := f.codes(us[0].ID); len(cs) != 1 || cs[0].GeneratedBy != models.GeneratedByCreation {
		t.Fatalf("codes %+v", cs)
	}
	if len(f.codes(us[1].ID)) != 0 || len(f.codes(us[2].ID)) != 0 {
		t.Fatal("a user with MFA, or disabled, got a code")
	}
}
