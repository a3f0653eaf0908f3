//go:build bench

package handlers_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/store"
)

// benchEventsStore opens the benchmark database bench_events_<n> (benchSchema), seeding it once
// with an account of n events over 60 days, and returns it with the instant of the newest seeded
// event (the benchmark's "now", so that "last 7 days" always covers the same rows).
func benchEventsStore(b *testing.B, n int) (*store.Store, time.Time) {
	b.Helper()
	ctx := context.Background()
	schema := fmt.Sprintf("bench_events_%d", n)
	s := benchSchema(b, schema, false)
	account, err := s.AccountByName(ctx, "bench")
	if err != nil {
		account = models.NewAccount("bench")
		if err := s.CreateAccount(ctx, account); err != nil {
			b.Fatal(err)
		}
	}
	db := s.SQLDB()
	// Seeded ids are 1..n (the seed restarts the sequence); later rows are the benchmark's own
	// sign-ins. The column itself, not max(): SQLite reads an aggregate's time back as text.
	newest := func() (time.Time, error) {
		var t time.Time
		err := db.QueryRow("SELECT occurred_at FROM events WHERE account_id = $1 AND id BETWEEN $2 AND $3 ORDER BY occurred_at DESC LIMIT 1",
			account.ID, n-1000, n).Scan(&t)
		return t.UTC(), err
	}
	seeded, err := newest()
	if errors.Is(err, sql.ErrNoRows) {
		start := time.Now()
		b.Logf("seeding %d events into %s (once)…", n, schema)
		seedEvents(b, s, account.ID, n)
		b.Logf("seeded in %s", time.Since(start).Round(time.Second))
		seeded, err = newest()
	}
	if err != nil {
		b.Fatal("no seeded events: ", err)
	}
	return s, seeded
}

// benchKinds are the seeded kinds of event with their share (per thousand), actor and details.
var benchKinds = []struct {
	typ, sub, actor string
	weight          int
	details         string
}{
	{"Portal", "Signed In", "user", 300, ""},
	{"Portal", "Sign-in Failed", "user", 60, `{"reason":"wrong password"}`},
	{"Portal", "Signed Out", "user", 100, ""},
	{"Portal", "Password Changed", "user", 10, ""},
	{"Client", "Sign-in Failed", "client", 30, `{"reason":"invalid credentials"}`},
	{"Client", "Code Rejected", "client", 20, `{"reason":"code expired"}`},
	{"Device", "Registered", "client", 40, `{"device":"laptop","platform":"macos","via":"code"}`},
	{"Device", "Signed Out", "admin", 20, `{"device":"laptop","reason":"signed out by an admin"}`},
	{"Registration Code", "Generated", "admin", 120, ""},
	{"Registration Code", "Used", "client", 40, `{"device":"laptop"}`},
	{"Registration Code", "Revoked", "helpdesk", 20, ""},
	{"User", "Created", "admin", 60, ""},
	{"User", "Invited", "admin", 50, `{"reason":"created"}`},
	{"User", "Activated", "user", 40, ""},
	{"User", "Disabled", "admin", 15, ""},
	{"User", "Enabled", "admin", 5, ""},
	{"User", "Deleted", "admin", 4, `{"name":"Nora Kim"}`},
	{"User", "Password Reset", "helpdesk", 20, ""},
	{"User", "MFA Enrolled", "user", 15, ""},
	{"User", "MFA Removed", "user", 3, ""},
	{"Admin", "Signed In", "admin", 20, ""},
	{"Admin", "Sign-in Failed", "system", 5, `{"reason":"wrong password"}`},
	{"Admin", "Settings Changed", "admin", 2, `{"method":"invitation_email → registration_code"}`},
	{"Directory", "Sync", "system", 1, `{"created":"12","disabled":"1"}`},
}

// sqlPick is a CASE choosing, by the 1-based number expr, one of vals (quoted as SQL strings).
func sqlPick(expr string, vals []string) string {
	var q strings.Builder
	q.WriteString("CASE " + expr)
	for i, v := range vals {
		fmt.Fprintf(&q, " WHEN %d THEN '%s'", i+1, strings.ReplaceAll(v, "'", "''"))
	}
	return q.String() + " END"
}

// seedEvents fills events with one INSERT … SELECT over a recursive series 1..n (the same
// statement on both databases): n rows in time order (ids follow time, as real inserts do) over
// the 60 days before now, with a realistic mix of kinds, 200,000 users with name-like emails (a
// few much busier than the rest), and the actors that go with each kind. The indexes are dropped
// while it runs and built afterwards (much faster than maintaining them row by row), then the
// statistics are taken (on PostgreSQL VACUUM ANALYZE, which also sets the visibility map that
// index-only scans rely on; on SQLite ANALYZE, and the WAL is checkpointed away).
func seedEvents(b *testing.B, s *store.Store, accountID int64, n int) {
	ctx := context.Background()
	conn, err := s.SQLDB().Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string, args ...any) {
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("%v\n%.400s", err, q)
		}
	}
	rows, err := conn.QueryContext(ctx, byDialect(s,
		"SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'events' AND indexname <> 'events_pkey'",
		"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL"))
	if err != nil {
		b.Fatal(err)
	}
	var names, defs []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			b.Fatal(err)
		}
		names, defs = append(names, name), append(defs, def)
	}
	rows.Close()
	for _, name := range names {
		exec("DROP INDEX " + name)
	}
	for _, q := range byDialect(s,
		[]string{"TRUNCATE events RESTART IDENTITY", "SELECT setseed(0.42)"},
		[]string{"DELETE FROM events", "DELETE FROM sqlite_sequence WHERE name = 'events'"}) {
		exec(q)
	}

	var types, subs, actors, details []string
	pick := "CASE" // kind number (1-based) of r, a number from 1 to 1000
	total := 0
	for i, k := range benchKinds {
		types, subs, actors, details = append(types, k.typ), append(subs, k.sub), append(actors, k.actor), append(details, k.details)
		total += k.weight
		pick += fmt.Sprintf(" WHEN r <= %d THEN %d", total, i+1)
	}
	pick += " END"
	if total != 1000 {
		b.Fatalf("kind weights add up to %d, not 1000", total)
	}
	firsts := strings.Fields("ada alan barbara claude dennis donald edsger frances grace guido hedy ian james jean john ken " +
		"leslie linus margaret maria mary nora niklaus ole peter radia rasmus rob robin ruth shafi sophie tim tony ward whitfield yukihiro " +
		"adele anita bjarne")
	lasts := strings.Fields("abbott baker carter diaz evans fischer garcia hansen ito jones kim king lopez martin nakamura " +
		"nguyen olsen patel quinn rossi sato schmidt silva smith tanaka taylor usman vargas wagner walker wang weber white " +
		"wilson wong xu yamamoto young zhang zimmermann adams brown clark davis hall hill khan kumar lee moreau")
	if len(firsts) != 40 || len(lasts) != 50 {
		b.Fatalf("%d first names, %d last names", len(firsts), len(lasts))
	}
	// What differs: a random number in [0, 1) (SQLite's random() is a 64-bit integer), and seconds
	// since 1970 as a time (on SQLite the text the driver writes: 2006-01-02 15:04:05.999+00:00,
	// without trailing zeros, so that it compares and reads back like the application's rows).
	rnd := byDialect(s, "random()", "((random() & 4503599627370495) / 4503599627370496.0)")
	occurred := byDialect(s, "to_timestamp(%s)", "rtrim(rtrim(strftime('%%Y-%%m-%%d %%H:%%M:%%f', %s, 'unixepoch'), '0'), '.') || '+00:00'")
	epoch := "CAST($2 AS double precision) + g * CAST($4 AS double precision) - jitter * 10"
	actor := sqlPick("k", actors)
	start := time.Now().UTC().Truncate(time.Second).Add(-60 * 24 * time.Hour)
	exec(`INSERT INTO events (account_id, occurred_at, type, sub_type, actor_type, actor_id, actor_label, email, sdp_user_id, device_id, source_ip, details)
WITH RECURSIVE series(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM series WHERE g < $3)
SELECT $1, `+fmt.Sprintf(occurred, epoch)+`,
	`+sqlPick("k", types)+`, `+sqlPick("k", subs)+`, `+actor+`,
	CASE `+actor+` WHEN 'admin' THEN 1 + u % 5 WHEN 'helpdesk' THEN 6 + u % 3 WHEN 'user' THEN 1000000 + u END,
	CASE `+actor+` WHEN 'admin' THEN 'admin' || (1 + u % 5) || '@example.com' WHEN 'helpdesk' THEN 'help' || (1 + u % 3) || '@example.com'
		WHEN 'system' THEN 'system' ELSE email END,
	email, 1000000 + u,
	CASE WHEN `+sqlPick("k", types)+` IN ('Device', 'Client') THEN 5000000 + u END,
	'198.51.' || (u % 250) || '.' || (g % 250),
	`+sqlPick("k", details)+`
FROM (
	SELECT g, u, jitter, `+pick+` AS k,
		`+sqlPick("1 + u % 40", firsts)+` || '.' || `+sqlPick("1 + (u / 40) % 50", lasts)+` || (u / 2000) || '@example.com' AS email
	FROM (
		-- OFFSET 0 keeps the random numbers of each row drawn once (the subquery is not merged
		-- into the one above, which would draw them again at every use).
		SELECT g, CAST(floor(power(`+rnd+`, 2) * 200000) AS integer) AS u, 1 + CAST(floor(`+rnd+` * 1000) AS integer) AS r, `+rnd+` AS jitter
		FROM series LIMIT $3 OFFSET 0
	) a
	LIMIT $3 OFFSET 0
) x`, accountID, float64(start.Unix()), n, (60*24*time.Hour).Seconds()/float64(n))
	for _, q := range byDialect(s, []string{"SET maintenance_work_mem = '1GB'"}, []string{"PRAGMA cache_size = -1048576"}) {
		exec(q)
	}
	for _, def := range defs {
		exec(def)
	}
	for _, q := range byDialect(s, []string{"VACUUM (ANALYZE) events"}, []string{"PRAGMA cache_size = -2000", "ANALYZE events", "PRAGMA wal_checkpoint(TRUNCATE)"}) {
		exec(q)
	}
}

// BenchmarkEventsPage measures the server time of Event Discovery at 10,000,000 events
// (BENCH_EVENTS overrides) against the same statements replayed raw in the same run
// (benchPage).
func BenchmarkEventsPage(b *testing.B) {
	n := benchSize(b, "BENCH_EVENTS", 10_000_000)
	s, now := benchEventsStore(b, n)
	tr := tracePages(b, s)
	a := newAppOn(b, s)
	a.mu.Lock()
	a.now = now // "last 7 days" counts back from the newest seeded event
	a.mu.Unlock()
	ctx := context.Background()
	account, err := s.AccountByName(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	a.benchAdmin("bench", "bench-events@example.com")
	c := a.client()
	c.signIn("bench-events@example.com")
	cookies := c.cookies()
	db := s.SQLDB()
	week := now.Add(-7 * 24 * time.Hour)

	// A cursor six days deep into the week: about 1,000,000 rows from the top.
	var deep models.Event
	if err := db.QueryRow("SELECT occurred_at, id FROM events WHERE account_id = $1 AND occurred_at < $2 ORDER BY occurred_at DESC, id DESC LIMIT 1",
		account.ID, now.Add(-6*24*time.Hour)).Scan(&deep.OccurredAt, &deep.ID); err != nil {
		b.Fatal(err)
	}
	var userID int64
	if err := db.QueryRow("SELECT sdp_user_id FROM events WHERE account_id = $1 AND occurred_at >= $2 AND email LIKE 'nora.kim%' LIMIT 1", account.ID, week).Scan(&userID); err != nil {
		b.Fatal(err)
	}
	cases := []struct{ name, path string }{
		{"first (7 days)", "/events"},
		{"type+subtype", "/events?type=Portal&subtype=Sign-in+Failed"},
		{"search nora", "/events?q=nora"},
		{"search nora.kim", "/events?q=nora.kim"},
		{"deep page", "/events?after=" + store.EventCursor(deep)},
		{"30 days", "/events?range=30d"},
		{"actor system", "/events?actor_type=system"},
		{"one user, all time", fmt.Sprintf("/events?range=all&user=%d", userID)},
	}
	for _, tc := range cases {
		b.Run(fmt.Sprintf("%s/events=%d/%s", benchDB(b), n, tc.name), func(b *testing.B) {
			benchPage(b, a, tr, cookies, tc.path, `data-testid="events-table"`)
		})
	}
}
