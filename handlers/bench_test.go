package handlers_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"onramp/models"
	"onramp/models/demo"
	"onramp/models/store"
	"onramp/models/users"
)

// benchSchema opens a migrated PostgreSQL schema on BENCH_DATABASE_URL. A named schema is kept
// between runs (large data sets are seeded once); with temporary it is dropped afterwards.
func benchSchema(b *testing.B, schema string, temporary bool) *store.Store {
	b.Helper()
	base := os.Getenv("BENCH_DATABASE_URL")
	if base == "" {
		b.Fatal("BENCH_DATABASE_URL must point at a PostgreSQL database (make bench sets it)")
	}
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
	ctx := context.Background()
	s, err := store.Open(ctx, u.String(), store.Options{MaxOpenConns: 32})
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

// benchStore opens (and fills once) a PostgreSQL schema holding an account with n users. The
// schema is kept between runs: seeding a million users takes a minute, measuring does not.
func benchStore(b *testing.B, prefix string, n int) *store.Store {
	b.Helper()
	ctx := context.Background()
	schema := fmt.Sprintf("%s_%d", prefix, n)
	s := benchSchema(b, schema, false)
	have := int64(0)
	if a, err := s.AccountByName(ctx, "bench"); err == nil {
		have, _ = s.CountUsers(ctx, a.ID, store.UserFilter{})
	}
	if have < int64(n) {
		b.Logf("seeding %d users into %s (once)…", int64(n)-have, schema)
		if _, err := demo.Fill(ctx, s, "bench", n-int(have), nil); err != nil {
			b.Fatal(err)
		}
		if _, err := s.SQLDB().Exec("ANALYZE sdp_users"); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkUsersPage measures the server time of the Users page at 100,000 and 1,000,000 users
// (BENCH_USERS overrides), next to the raw SQL query of the same rows in the same run: the
// x_raw metric is page time / raw query time.
func BenchmarkUsersPage(b *testing.B) {
	sizes := []int{100_000, 1_000_000}
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
		a := newAppOn(b, s)
		ctx := context.Background()
		account, err := s.AccountByName(ctx, "bench")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.AdminByEmail(ctx, "bench@example.com"); err != nil {
			a.createAdmin("bench", "bench@example.com", models.RoleAdmin)
		}
		c := a.client()
		c.signIn("bench@example.com")
		cookies := c.cookies()
		var minID, midID int64
		_ = s.SQLDB().QueryRow("SELECT MIN(id), MIN(id) + (MAX(id) - MIN(id)) / 2 FROM sdp_users WHERE account_id = $1", account.ID).Scan(&minID, &midID)
		const cols = "id, account_id, first_name, last_name, email, phone, origin, status, activation, mfa_configured, had_code, active_codes, devices, created_at"
		cases := []struct {
			name, path, raw string
			args            []any
		}{
			{"first", "/access/users", "SELECT " + cols + " FROM sdp_users WHERE account_id = $1 ORDER BY id DESC LIMIT 51", []any{account.ID}},
			{"search", "/access/users?q=nora", "SELECT " + cols + " FROM sdp_users WHERE account_id = $1 AND ((email >= $2 AND email < $3) OR lower(first_name) LIKE $4 OR lower(last_name) LIKE $4) ORDER BY id DESC LIMIT 51",
				[]any{account.ID, "nora", "nora\U0010FFFF", "nora%"}},
			{"filtered", "/access/users?mfa=yes&status=disabled", "SELECT " + cols + " FROM sdp_users WHERE account_id = $1 AND status = 'disabled' AND mfa_configured ORDER BY id DESC LIMIT 51", []any{account.ID}},
			{"deep", fmt.Sprintf("/access/users?after=%d", minID+60), "SELECT " + cols + " FROM sdp_users WHERE account_id = $1 AND id < $2 ORDER BY id DESC LIMIT 51", []any{account.ID, minID + 60}},
			{"deep-by-name", "/access/users?sort=name&after=" + nameCursor(b, s, account.ID, midID), "SELECT " + cols + " FROM sdp_users WHERE account_id = $1 AND (name_key, id) > ($2, $3) ORDER BY name_key, id LIMIT 51",
				[]any{account.ID, nameKey(b, s, midID), midID}},
		}
		for _, tc := range cases {
			b.Run(fmt.Sprintf("users=%d/%s", n, tc.name), func(b *testing.B) {
				req := func() *http.Request {
					r := httptest.NewRequest(http.MethodGet, tc.path, nil)
					for _, ck := range cookies {
						r.AddCookie(ck)
					}
					return r
				}
				rec := httptest.NewRecorder()
				a.srv.Config.Handler.ServeHTTP(rec, req())
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `data-testid="users-table"`) {
					b.Fatalf("%s: %d\n%.500s", tc.path, rec.Code, rec.Body.String())
				}
				// The raw database doing the same work, in the same run.
				rawStart := time.Now()
				for i := 0; i < b.N; i++ {
					rows, err := s.SQLDB().Query(tc.raw, tc.args...)
					if err != nil {
						b.Fatal(err)
					}
					for rows.Next() {
						vals := make([]any, 14)
						ptrs := make([]any, 14)
						for j := range vals {
							ptrs[j] = &vals[j]
						}
						if err := rows.Scan(ptrs...); err != nil {
							b.Fatal(err)
						}
					}
					rows.Close()
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
}

func nameKey(b *testing.B, s *store.Store, id int64) string {
	var k string
	if err := s.SQLDB().QueryRow("SELECT name_key FROM sdp_users WHERE id = $1", id).Scan(&k); err != nil {
		b.Fatal(err)
	}
	return k
}

// nameCursor is the list's cursor for a position in the name order (the store's format).
func nameCursor(b *testing.B, s *store.Store, accountID, id int64) string {
	return store.EncodeCursor(nameKey(b, s, id), id)
}

// BenchmarkBulkAction disables every user of a 100,000-user account through the Users Actions
// (one transaction, a thousand users per statement, an event and a notification email per user)
// next to raw SQL doing the same writes (one UPDATE, one INSERT … SELECT of the events and one of
// the emails) in the same run.
func BenchmarkBulkAction(b *testing.B) {
	const n = 100_000
	// Its own schema: disabling users would change what the page benchmarks filter on.
	s := benchStore(b, "bench_bulk", n)
	a := newAppOn(b, s)
	ctx := context.Background()
	boss, err := s.AdminByEmail(ctx, "bench@example.com")
	if err != nil {
		boss = a.createAdmin("bench", "bench@example.com", models.RoleAdmin)
	}
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
		res, err := a.users.Bulk(ctx, boss, "127.0.0.1", users.ActionDisable, users.Selection{All: true})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if res.Affected != n {
			b.Fatalf("disable affected %d", res.Affected)
		}
		enableAll()
		start := time.Now()
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		for _, q := range []string{
			"UPDATE sdp_users SET status = 'disabled', updated_at = now() WHERE account_id = $1 AND status = 'enabled'",
			`INSERT INTO events (account_id, occurred_at, type, sub_type, actor_type, actor_label, email, sdp_user_id, source_ip, details)
				SELECT account_id, now(), 'User', 'Disabled', 'admin', 'bench', email, id, '127.0.0.1', '' FROM sdp_users WHERE account_id = $1`,
			`INSERT INTO mail_messages (account_id, sdp_user_id, kind, to_email, subject, text_body, html_body, message_id, status, attempts, last_error, created_at, updated_at)
				SELECT account_id, id, 'disabled_notice', email, 'Your access was disabled', 'Hello, your access was disabled.', '<p>Hello, your access was disabled.</p>',
				'<raw-' || id || '-' || md5(random()::text) || '@bench>', 'held', 0, '', now(), now() FROM sdp_users WHERE account_id = $1`,
		} {
			if _, err := tx.Exec(q, boss.AccountID); err != nil {
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
