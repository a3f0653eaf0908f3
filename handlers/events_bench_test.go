package handlers_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/events"
	"onramp/models/store"
)

// benchEventsStore opens the PostgreSQL schema bench_events_<n>, seeding it once with an account
// of n events over 60 days, and returns it with the instant of the newest seeded event (the
// benchmark's "now", so that "last 7 days" always covers the same rows).
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
	var seeded sql.NullTime
	// Seeded ids are 1..n (the seed restarts the sequence); later rows are the benchmark's own sign-ins.
	if err := db.QueryRow("SELECT max(occurred_at) FROM events WHERE account_id = $1 AND id BETWEEN $2 AND $3", account.ID, n-1000, n).Scan(&seeded); err != nil {
		b.Fatal(err)
	}
	if !seeded.Valid {
		start := time.Now()
		b.Logf("seeding %d events into %s (once)…", n, schema)
		seedEvents(b, db, account.ID, n)
		b.Logf("seeded in %s", time.Since(start).Round(time.Second))
		if err := db.QueryRow("SELECT max(occurred_at) FROM events WHERE account_id = $1 AND id BETWEEN $2 AND $3", account.ID, n-1000, n).Scan(&seeded); err != nil || !seeded.Valid {
			b.Fatal("seed left no events", err)
		}
	}
	return s, seeded.Time.UTC()
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

func sqlArray(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
	}
	return "ARRAY[" + strings.Join(q, ",") + "]::text[]"
}

// seedEvents fills events with one INSERT … SELECT FROM generate_series: n rows in time order
// (ids follow time, as real inserts do) over the 60 days before now, with a realistic mix of
// kinds, 200,000 users with name-like emails (a few much busier than the rest), and the actors
// that go with each kind. The indexes are dropped while it runs and built afterwards (much faster
// than maintaining them row by row), then VACUUM ANALYZE sets the statistics and the visibility
// map that index-only scans rely on.
func seedEvents(b *testing.B, db *sql.DB, accountID int64, n int) {
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string, args ...any) {
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("%v\n%.400s", err, q)
		}
	}
	rows, err := conn.QueryContext(ctx, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'events' AND indexname <> 'events_pkey'")
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
	exec("TRUNCATE events RESTART IDENTITY")

	var types, subs, actors, details []string
	var pick []string // kind number (1-based) per thousandth
	for i, k := range benchKinds {
		types, subs, actors, details = append(types, k.typ), append(subs, k.sub), append(actors, k.actor), append(details, k.details)
		for range k.weight {
			pick = append(pick, strconv.Itoa(i+1))
		}
	}
	if len(pick) != 1000 {
		b.Fatalf("kind weights add up to %d, not 1000", len(pick))
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
	exec("SELECT setseed(0.42)")
	exec(`INSERT INTO events (account_id, occurred_at, type, sub_type, actor_type, actor_id, actor_label, email, sdp_user_id, device_id, source_ip, details)
SELECT $1,
	$2::timestamptz - interval '60 days' + (g::float8 / $3) * interval '60 days' - jitter * interval '10 seconds',
	(`+sqlArray(types)+`)[k], (`+sqlArray(subs)+`)[k], (`+sqlArray(actors)+`)[k],
	CASE (`+sqlArray(actors)+`)[k] WHEN 'admin' THEN 1 + u % 5 WHEN 'helpdesk' THEN 6 + u % 3 WHEN 'user' THEN 1000000 + u END,
	CASE (`+sqlArray(actors)+`)[k] WHEN 'admin' THEN 'admin' || (1 + u % 5) || '@example.com' WHEN 'helpdesk' THEN 'help' || (1 + u % 3) || '@example.com'
		WHEN 'system' THEN 'system' ELSE email END,
	email, 1000000 + u,
	CASE WHEN (`+sqlArray(types)+`)[k] IN ('Device', 'Client') THEN 5000000 + u END,
	'198.51.' || (u % 250) || '.' || (g % 250),
	(`+sqlArray(details)+`)[k]
FROM (
	SELECT g, u, jitter, (ARRAY[`+strings.Join(pick, ",")+`])[r] AS k,
		(`+sqlArray(firsts)+`)[1 + u % 40] || '.' || (`+sqlArray(lasts)+`)[1 + (u / 40) % 50] || (u / 2000) || '@example.com' AS email
	FROM (
		-- OFFSET 0 keeps the random() of each row evaluated once.
		SELECT g, floor(power(random(), 2) * 200000)::int AS u, 1 + floor(random() * 1000)::int AS r, random() AS jitter
		FROM generate_series(1, $3::int) g OFFSET 0
	) a
) x`, accountID, time.Now().UTC().Truncate(time.Second), n)
	exec("SET maintenance_work_mem = '1GB'")
	for _, def := range defs {
		exec(def)
	}
	exec("VACUUM (ANALYZE) events")
}

// BenchmarkEventsPage measures the server time of Event Discovery at 10,000,000 events
// (BENCH_EVENTS overrides): each page next to the raw SQL statements of the same work (the
// kinds, the page of rows, the counts per kind) run in the same process. x_raw = page / raw.
func BenchmarkEventsPage(b *testing.B) {
	n := 10_000_000
	if v := os.Getenv("BENCH_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	s, now := benchEventsStore(b, n)
	a := newAppOn(b, s)
	a.mu.Lock()
	a.now = now // "last 7 days" counts back from the newest seeded event
	a.mu.Unlock()
	ctx := context.Background()
	account, err := s.AccountByName(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.AdminByEmail(ctx, "bench-events@example.com"); err != nil {
		a.createAdmin("bench", "bench-events@example.com", models.RoleAdmin)
	}
	c := a.client()
	c.signIn("bench-events@example.com")
	cookies := c.cookies()
	db := s.SQLDB()
	week, month := now.Add(-7*24*time.Hour), now.Add(-30*24*time.Hour)

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
	kinds, err := s.EventKinds(ctx, account.ID)
	if err != nil {
		b.Fatal(err)
	}

	const cols = "id, account_id, occurred_at, type, sub_type, actor_type, actor_id, actor_label, email, sdp_user_id, device_id, source_ip, details"
	const kindsSQL = `WITH RECURSIVE k(type, sub_type) AS (
	SELECT (SELECT type FROM events WHERE account_id = $1 ORDER BY type, sub_type LIMIT 1),
	       (SELECT sub_type FROM events WHERE account_id = $1 ORDER BY type, sub_type LIMIT 1)
	UNION ALL
	SELECT (SELECT e.type FROM events e WHERE e.account_id = $1 AND (e.type, e.sub_type) > (k.type, k.sub_type) ORDER BY e.type, e.sub_type LIMIT 1),
	       (SELECT e.sub_type FROM events e WHERE e.account_id = $1 AND (e.type, e.sub_type) > (k.type, k.sub_type) ORDER BY e.type, e.sub_type LIMIT 1)
	FROM k WHERE k.type IS NOT NULL
) SELECT type, sub_type FROM k WHERE type IS NOT NULL LIMIT 500`
	type stmt struct {
		sql  string
		args []any
	}
	// perKind is the counts of a time-and-kind filter: one capped index-only count per kind.
	perKind := func(from time.Time, typ, sub string) stmt {
		var parts []string
		args := []any{account.ID, from, events.CountCap + 1}
		for _, k := range kinds {
			if (typ != "" && string(k.Type) != typ) || (sub != "" && k.SubType != sub) {
				continue
			}
			args = append(args, string(k.Type), k.SubType)
			t, st := len(args)-1, len(args)
			parts = append(parts, fmt.Sprintf("SELECT $%d::text, $%d::text, (SELECT count(*) FROM (SELECT 1 FROM events WHERE account_id = $1 AND type = $%d AND sub_type = $%d AND occurred_at >= $2 LIMIT $3) c)", t, st, t, st))
		}
		return stmt{strings.Join(parts, " UNION ALL "), args}
	}
	// sampled is the counts of any other filter: the first CountCap+1 matching rows, grouped.
	sampled := func(where string, args ...any) stmt {
		return stmt{fmt.Sprintf("SELECT type, sub_type, count(*) FROM (SELECT type, sub_type FROM events WHERE %s LIMIT %d) m GROUP BY type, sub_type ORDER BY type, sub_type",
			where, events.CountCap+1), args}
	}
	list := func(where string, args ...any) stmt {
		return stmt{"SELECT " + cols + " FROM events WHERE " + where + " ORDER BY occurred_at DESC, id DESC LIMIT 51", args}
	}
	kindsStmt := stmt{kindsSQL, []any{account.ID}}
	cases := []struct {
		name, path string
		raw        []stmt
	}{
		{"first (7 days)", "/events", []stmt{kindsStmt, list("account_id = $1 AND occurred_at >= $2", account.ID, week), perKind(week, "", "")}},
		{"type+subtype", "/events?type=Portal&subtype=Sign-in+Failed", []stmt{kindsStmt,
			list("account_id = $1 AND occurred_at >= $2 AND type = $3 AND sub_type = $4", account.ID, week, "Portal", "Sign-in Failed"),
			perKind(week, "Portal", "Sign-in Failed")}},
		{"search nora", "/events?q=nora", []stmt{kindsStmt, list("account_id = $1 AND occurred_at >= $2 AND email LIKE $3", account.ID, week, "nora%"),
			sampled("account_id = $1 AND occurred_at >= $2 AND email LIKE $3", account.ID, week, "nora%")}},
		{"search nora.kim", "/events?q=nora.kim", []stmt{kindsStmt, list("account_id = $1 AND occurred_at >= $2 AND email LIKE $3", account.ID, week, "nora.kim%"),
			sampled("account_id = $1 AND occurred_at >= $2 AND email LIKE $3", account.ID, week, "nora.kim%")}},
		{"deep page", "/events?after=" + store.EventCursor(deep), []stmt{kindsStmt,
			list("account_id = $1 AND occurred_at >= $2 AND (occurred_at, id) < ($3, $4)", account.ID, week, deep.OccurredAt, deep.ID), perKind(week, "", "")}},
		{"30 days", "/events?range=30d", []stmt{kindsStmt, list("account_id = $1 AND occurred_at >= $2", account.ID, month), perKind(month, "", "")}},
		{"actor system", "/events?actor_type=system", []stmt{kindsStmt, list("account_id = $1 AND occurred_at >= $2 AND actor_type = $3", account.ID, week, "system"),
			sampled("account_id = $1 AND occurred_at >= $2 AND actor_type = $3", account.ID, week, "system")}},
		{"one user, all time", fmt.Sprintf("/events?range=all&user=%d", userID), []stmt{kindsStmt,
			list("account_id = $1 AND sdp_user_id = $2", account.ID, userID), sampled("account_id = $1 AND sdp_user_id = $2", account.ID, userID)}},
	}
	for _, tc := range cases {
		b.Run(fmt.Sprintf("events=%d/%s", n, tc.name), func(b *testing.B) {
			req := func() *http.Request {
				r := httptest.NewRequest(http.MethodGet, tc.path, nil)
				for _, ck := range cookies {
					r.AddCookie(ck)
				}
				return r
			}
			rec := httptest.NewRecorder()
			a.srv.Config.Handler.ServeHTTP(rec, req())
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `data-testid="events-table"`) {
				b.Fatalf("%s: %d\n%.800s", tc.path, rec.Code, rec.Body.String())
			}
			// The raw database doing the same work, in the same run.
			rawStart := time.Now()
			for i := 0; i < b.N; i++ {
				for _, st := range tc.raw {
					rows, err := db.Query(st.sql, st.args...)
					if err != nil {
						b.Fatalf("%v\n%s", err, st.sql)
					}
					cols, _ := rows.Columns()
					vals := make([]any, len(cols))
					ptrs := make([]any, len(cols))
					for j := range vals {
						ptrs[j] = &vals[j]
					}
					for rows.Next() {
						if err := rows.Scan(ptrs...); err != nil {
							b.Fatal(err)
						}
					}
					if err := rows.Err(); err != nil {
						b.Fatal(err)
					}
					rows.Close()
				}
			}
			raw := time.Since(rawStart)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rec := httptest.NewRecorder()
				a.srv.Config.Handler.ServeHTTP(rec, req())
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(raw.Nanoseconds())/float64(b.N), "raw-ns/op")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(raw.Nanoseconds()), "x_raw")
		})
	}
}
