//go:build bench

package handlers_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"onramp/migrations"
	"onramp/models"
	"onramp/models/demo"
	"onramp/models/store"
	"onramp/models/users"
)

// benchDialect is the database BENCH_DATABASE_URL names: postgres://… is a PostgreSQL database,
// sqlite:<directory> a folder of SQLite files.
func benchDialect(b *testing.B) migrations.Dialect {
	b.Helper()
	switch base := os.Getenv("BENCH_DATABASE_URL"); {
	case strings.HasPrefix(base, "postgres://") || strings.HasPrefix(base, "postgresql://"):
		return migrations.Postgres
	case strings.HasPrefix(base, "sqlite:") && len(base) > len("sqlite:"):
		return migrations.SQLite
	}
	b.Fatal("BENCH_DATABASE_URL must be postgres://… or sqlite:<directory> (make bench sets it)")
	return ""
}

// benchDB is the first part of the benchmarks' names, "db=postgres" or "db=sqlite", so that the
// passes of make bench over both databases can be told apart in one output.
func benchDB(b *testing.B) string { return "db=" + string(benchDialect(b)) }

// byDialect picks the PostgreSQL or the SQLite form of a statement (or of its arguments), where
// one form cannot serve both.
func byDialect[T any](s *store.Store, pg, sqlite T) T {
	if s.Dialect() == migrations.Postgres {
		return pg
	}
	return sqlite
}

// benchSchema opens a migrated database of its own named schema on BENCH_DATABASE_URL: a schema
// of that PostgreSQL database, or the file <directory>/<schema>.db for sqlite:<directory> (a
// relative directory is taken from this package's folder, where go test runs). A named one is
// kept between runs (large data sets are seeded once); with temporary it is dropped (the file
// deleted) afterwards.
func benchSchema(b *testing.B, schema string, temporary bool) *store.Store {
	b.Helper()
	base := os.Getenv("BENCH_DATABASE_URL")
	dbURL := ""
	if benchDialect(b) == migrations.SQLite {
		path := filepath.Join(strings.TrimPrefix(base, "sqlite:"), schema+".db")
		dbURL = "sqlite:" + path
		if temporary {
			// Registered before the store's Close, so it runs after it.
			b.Cleanup(func() {
				for _, suffix := range []string{"", "-wal", "-shm"} {
					_ = os.Remove(path + suffix)
				}
			})
		}
	} else {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := admin.Exec("CREATE SCHEMA IF NOT EXISTS " + schema); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			if temporary {
				_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
			}
			admin.Close()
		})
		u, _ := url.Parse(base)
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		dbURL = u.String()
	}
	ctx := context.Background()
	s, err := store.Open(ctx, dbURL, store.Options{MaxOpenConns: 32})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	m, err := s.Migrator()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Up(ctx); err != nil {
		b.Fatal(err)
	}
	return s
}

// benchSize is the size the environment variable env sets for a benchmark's data, else def.
func benchSize(b *testing.B, env string, def int) int {
	b.Helper()
	v := os.Getenv(env)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		b.Fatalf("%s: %v", env, err)
	}
	return n
}

// benchStore opens (and fills once) a benchmark database (benchSchema) holding an account with
// n users. It is kept between runs: seeding a million users takes minutes, measuring does not.
func benchStore(b *testing.B, prefix string, n int) *store.Store {
	b.Helper()
	s := benchSchema(b, fmt.Sprintf("%s_%d", prefix, n), false)
	if fillUsers(b, s, "bench", n) {
		// On PostgreSQL VACUUM also sets the visibility map, without which the index-only scans
		// of the list's counts read the table (autovacuum would, later, on a real database).
		if _, err := s.SQLDB().Exec(byDialect(s, "VACUUM ANALYZE sdp_users", "ANALYZE sdp_users")); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// fillUsers tops the account named name (created when missing) up to n users with demo.Fill and
// reports whether it had to.
func fillUsers(b *testing.B, s *store.Store, name string, n int) bool {
	b.Helper()
	ctx := context.Background()
	have := int64(0)
	if a, err := s.AccountByName(ctx, name); err == nil {
		have, _ = s.CountUsers(ctx, a.ID, store.UserFilter{})
	}
	if have >= int64(n) {
		return false
	}
	start := time.Now()
	b.Logf("seeding %d users into %s (once)…", int64(n)-have, name)
	if _, err := demo.Fill(ctx, s, name, n-int(have), nil); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded in %s", time.Since(start).Round(time.Second))
	return true
}

// benchAdmin returns the admin of account with email, creating it unless an earlier run did
// (the benchmarks' databases are kept; each of their admin emails is in one account).
func (a *testApp) benchAdmin(account, email string) *models.Admin {
	a.t.Helper()
	found, err := a.store.AdminsByEmail(context.Background(), email, 1)
	if err != nil {
		a.t.Fatal(err)
	}
	if len(found) == 1 {
		return &found[0]
	}
	return a.createAdmin(account, email, models.RoleAdmin)
}

// BenchmarkUsersPage measures the server time of the Users page at 1,000,000 users
// (BENCH_USERS sets other sizes, comma-separated) against the same statements replayed raw in
// the same run (benchPage): first page, search, filter, and page 500 by its cursor.
func BenchmarkUsersPage(b *testing.B) {
	sizes := []int{1_000_000}
	if v := os.Getenv("BENCH_USERS"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				b.Fatal(err)
			}
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		s := benchStore(b, "bench_users", n)
		tr := tracePages(b, s)
		a := newAppOn(b, s)
		ctx := context.Background()
		account, err := s.AccountByName(ctx, "bench")
		if err != nil {
			b.Fatal(err)
		}
		a.benchAdmin("bench", "bench@example.com")
		c := a.client()
		c.signIn("bench@example.com")
		cookies := c.cookies()
		// Page 500 (50 users a page) starts after the 24,950th newest user.
		var page500 int64
		if err := s.SQLDB().QueryRow("SELECT id FROM sdp_users WHERE account_id = $1 ORDER BY id DESC LIMIT 1 OFFSET 24949", account.ID).Scan(&page500); err != nil {
			b.Fatal(err)
		}
		cases := []struct{ name, path string }{
			{"first", "/access/users"},
			{"search", "/access/users?q=nora"},
			{"filtered", "/access/users?mfa=yes&status=disabled"},
			{"page500", fmt.Sprintf("/access/users?after=%d", page500)},
		}
		for _, tc := range cases {
			b.Run(fmt.Sprintf("%s/users=%d/%s", benchDB(b), n, tc.name), func(b *testing.B) {
				benchPage(b, a, tr, cookies, tc.path, `data-testid="users-table"`)
			})
		}
	}
}

// BenchmarkBulkAction disables every user of a 100,000-user account through the Users Actions
// (a background run: a thousand users per transaction, an event and a notification email per
// user) next to raw SQL doing the same writes (one UPDATE, one INSERT … SELECT of the events and
// one of the emails) in the same run.
func BenchmarkBulkAction(b *testing.B) { b.Run(benchDB(b), benchBulkAction) }

func benchBulkAction(b *testing.B) {
	const n = 100_000
	// Its own schema: disabling users would change what the page benchmarks filter on.
	s := benchStore(b, "bench_bulk", n)
	a := newAppOn(b, s)
	ctx := context.Background()
	boss := a.benchAdmin("bench", "bench@example.com")
	db := s.SQLDB()
	enableAll := func() {
		if _, err := db.Exec("UPDATE sdp_users SET status = 'enabled' WHERE account_id = $1", boss.AccountID); err != nil {
			b.Fatal(err)
		}
	}
	var raw time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		enableAll()
		b.StartTimer()
		// What confirming the action does: it starts a run, whose job (run here, in full) disables
		// a batch of users per transaction.
		out, err := a.Users.Perform(ctx, boss, "127.0.0.1", users.ActionDisable, users.Selection{All: true})
		if err != nil || out.Run == nil {
			b.Fatalf("no run: %+v %v", out, err)
		}
		if err := a.Runs.Attempt(ctx, out.Run.ID, 1, 1, 0); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if run, err := a.Users.Run(ctx, boss, out.Run.ID); err != nil || run.Status != models.RunDone || run.Affected != n {
			b.Fatalf("disable run %+v %v", run, err)
		}
		enableAll()
		start := time.Now()
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		// The time and a message id unique to the round are bound: the same SQL runs on both databases.
		now, tag := start.UTC(), strconv.FormatInt(start.UnixNano(), 36)
		for _, st := range []struct {
			q    string
			args []any
		}{
			{"UPDATE sdp_users SET status = 'disabled', updated_at = $2 WHERE account_id = $1 AND status = 'enabled'", []any{boss.AccountID, now}},
			{`INSERT INTO events (account_id, occurred_at, type, sub_type, actor_type, actor_label, email, sdp_user_id, source_ip, details)
				SELECT account_id, $2, 'User', 'Disabled', 'admin', 'bench', email, id, '127.0.0.1', '' FROM sdp_users WHERE account_id = $1`, []any{boss.AccountID, now}},
			{`INSERT INTO mail_messages (account_id, sdp_user_id, kind, to_email, subject, text_body, html_body, message_id, status, attempts, last_error, created_at, updated_at)
				SELECT account_id, id, 'disabled_notice', email, 'Your access was disabled', 'Hello, your access was disabled.', '<p>Hello, your access was disabled.</p>',
				'<raw-' || id || '-' || $3 || '@bench>', 'held', 0, '', $2, $2 FROM sdp_users WHERE account_id = $1`, []any{boss.AccountID, now, tag}},
		} {
			if _, err := tx.Exec(st.q, st.args...); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Rollback(); err != nil {
			b.Fatal(err)
		}
		raw += time.Since(start)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(raw.Nanoseconds())/float64(b.N), "raw-ns/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(raw.Nanoseconds()), "x_raw")
}
