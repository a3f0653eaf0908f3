//go:build bench

package handlers_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"onramp/migrations"
	"onramp/models"
	"onramp/models/jobs"
	"onramp/models/services"
	"onramp/models/store"
	"onramp/models/users"
)

// codesBench is a benchmark database of its own (bench_codes, kept between runs) with an account
// per size, each holding that many users: generation and the CSV rewrite its codes, so the
// Users page benchmarks' data stays as it is.
type codesBench struct {
	s   *store.Store
	app *testApp
}

func newCodesBench(b *testing.B) *codesBench {
	b.Helper()
	s := benchSchema(b, "bench_codes", false)
	// The job queue as in production: its poll interval, and on PostgreSQL its LISTEN, which
	// picks the run's job up as soon as the click commits.
	production := func(_ testing.TB, cfg *services.Config) { cfg.Jobs = jobs.Config{} }
	cb := &codesBench{s: s, app: newAppOn(b, s, production)}
	// The app's clock is the real one here: codes must expire in real time.
	cb.app.Codes.WithClock(func() time.Time { return time.Now().UTC() })
	cb.app.startJobs()
	return cb
}

// account returns the account named name with n users (seeded once) and its admin.
func (cb *codesBench) account(b *testing.B, name string, n int) (*models.Account, *models.Admin) {
	b.Helper()
	ctx := context.Background()
	fillUsers(b, cb.s, name, n)
	account, err := cb.s.AccountByName(ctx, name)
	if err != nil {
		b.Fatal(err)
	}
	return account, cb.app.benchAdmin(name, name+"@example.com")
}

func (cb *codesBench) exec(b *testing.B, q string, args ...any) {
	b.Helper()
	if _, err := cb.s.SQLDB().Exec(q, args...); err != nil {
		b.Fatalf("%s: %v", q, err)
	}
}

// resetCodes takes an account back to "every user is enabled and never had a code".
func (cb *codesBench) resetCodes(b *testing.B, accountID int64) {
	b.Helper()
	cb.exec(b, "DELETE FROM registration_codes WHERE account_id = $1", accountID)
	cb.exec(b, "DELETE FROM events WHERE account_id = $1 AND type = 'Registration Code'", accountID)
	cb.exec(b, "DELETE FROM code_handouts WHERE account_id = $1", accountID)
	cb.exec(b, "DELETE FROM runs WHERE account_id = $1", accountID)
	cb.exec(b, "UPDATE sdp_users SET status = 'enabled', mfa_configured = false WHERE account_id = $1 AND (status <> 'enabled' OR "+
		byDialect(cb.s, "mfa_configured", "mfa_configured = 1")+")", accountID)
	// Every round rewrites 100,000 users, codes and events: on PostgreSQL, without a vacuum the
	// dead rows of the rounds before would slow the next one down, whichever it is (SQLite reuses
	// the freed pages as it goes).
	for _, t := range []string{"sdp_users", "registration_codes", "events"} {
		cb.exec(b, byDialect(cb.s, "VACUUM ANALYZE ", "ANALYZE ")+t)
	}
	// A round writes hundreds of megabytes of WAL: PostgreSQL checkpoints every few of them,
	// and one that falls inside a round would slow that round alone. Each round starts just
	// after one instead, whichever side it measures.
	if cb.s.Dialect() == migrations.Postgres {
		cb.exec(b, "CHECKPOINT")
	}
}

// generate runs "Generate for new users" as a click does (the run and its River job, picked up
// by the started client) and waits for the run to finish.
func (cb *codesBench) generate(b *testing.B, boss *models.Admin) *models.Run {
	b.Helper()
	ctx := context.Background()
	run, err := cb.app.Codes.StartRun(ctx, boss, "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	return cb.wait(b, run, func(id int64) (*models.Run, error) { return cb.app.Codes.Run(ctx, boss, id) })
}

// generateAction confirms the Users action generate_code on all the account's users as a click
// does (a background run and its River job) and waits for the run to finish.
func (cb *codesBench) generateAction(b *testing.B, boss *models.Admin) *models.Run {
	b.Helper()
	ctx := context.Background()
	out, err := cb.app.Users.Perform(ctx, boss, "127.0.0.1", users.ActionGenerateCode, users.Selection{All: true})
	if err != nil || out.Run == nil {
		b.Fatalf("no run: %+v %v", out, err)
	}
	return cb.wait(b, out.Run, func(id int64) (*models.Run, error) { return cb.app.Users.Run(ctx, boss, id) })
}

// wait polls a run as its progress page does until it is finished, and fails unless it is done.
func (cb *codesBench) wait(b *testing.B, run *models.Run, get func(id int64) (*models.Run, error)) *models.Run {
	b.Helper()
	var err error
	// Every 20 ms: often enough to see the end at once, seldom enough not to load the database
	// the run works on (the progress page itself asks every second).
	for run.Open() {
		time.Sleep(20 * time.Millisecond)
		if run, err = get(run.ID); err != nil {
			b.Fatal(err)
		}
	}
	if run.Status != models.RunDone {
		b.Fatalf("run %+v", run)
	}
	return run
}

// BenchmarkCodesGenerate gives 100,000 users that never had a code one code each, click to done,
// in two ways: "Generate for new users" (work=new-users) and the Users action generate_code on
// all matching users (work=users-action), each a River job committing 5,000 users per
// transaction (the users' locks, codes, a Generated event each, progress). Each is paired, in the
// same run and interleaved (codes, Onramp, writes), with two raw baselines: codes, one
// INSERT … SELECT of the 100,000 code rows of the same shape; writes, raw SQL doing every write
// of the run (the users' locks, codes, events) in one transaction.
func BenchmarkCodesGenerate(b *testing.B) {
	const n = 100_000
	cb := newCodesBench(b)
	account, boss := cb.account(b, "codes", n)
	db := cb.s.SQLDB()
	// The users a generation gives a code: enabled, without MFA, without a code. Every round
	// starts with no code in the account (resetCodes), so the code rows' INSERT takes the first
	// two conditions only: the least a generation can do is to write the rows. The users' locks
	// (all the writes) take all three, as the product's batches do.
	enabled := byDialect(cb.s, "status = 'enabled' AND NOT mfa_configured", "status = 'enabled' AND mfa_configured = 0")
	newUser := enabled + ` AND NOT EXISTS (SELECT 1 FROM registration_codes c WHERE c.account_id = sdp_users.account_id AND c.sdp_user_id = sdp_users.id)`
	// Random values of the shape of the real ones (a 64-digit hex HMAC, a 58-character sealed code),
	// made by each database's own functions; the times are bound.
	lookup := byDialect(cb.s, "md5(random()::text || id) || md5(random()::text)", "lower(hex(randomblob(32)))")
	sealed := byDialect(cb.s, "encode(sha256(random()::text::bytea), 'base64')", "hex(randomblob(22))")
	rawInsert := `INSERT INTO registration_codes (account_id, sdp_user_id, lookup_hash, encrypted, generated_by, generated_by_admin_id, created_at, expires_at)
		SELECT account_id, id, ` + lookup + `, ` + sealed + ` || 'xxxxxxxxxxxxxx', 'bulk', $2, $3, $4
		FROM sdp_users WHERE account_id = $1 AND ` + enabled
	type stmt struct {
		q    string
		args []any
	}
	rawCodes := func(now time.Time) stmt {
		return stmt{rawInsert, []any{account.ID, boss.ID, now, now.Add(7 * 24 * time.Hour)}}
	}
	rawAll := func(now time.Time) []stmt {
		var lock []stmt
		if benchDB(b) == "postgres" {
			// The users' locks (PostgreSQL only): those of the users a generation gives a code.
			lock = []stmt{{`SELECT id FROM sdp_users WHERE account_id = $1 AND ` + newUser + ` FOR NO KEY UPDATE`, []any{account.ID}}}
		}
		return append(lock, []stmt{
			rawCodes(now),
			{`INSERT INTO events (account_id, occurred_at, type, sub_type, actor_type, actor_id, actor_label, email, sdp_user_id, source_ip, details)
			SELECT c.account_id, $3, 'Registration Code', 'Generated', 'admin', $2, 'bench', u.email, u.id, '127.0.0.1',
				'{"code_id":"' || c.id || '","expires_at":"2026-01-01T00:00:00Z","generated_by":"bulk"}'
			FROM registration_codes c JOIN sdp_users u ON u.id = c.sdp_user_id WHERE c.account_id = $1`, []any{account.ID, boss.ID, now}},
		}...)
	}
	raw := func(stmts []stmt) time.Duration {
		cb.resetCodes(b, account.ID)
		start := time.Now()
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		for _, st := range stmts {
			res, err := tx.Exec(st.q, st.args...)
			if err != nil {
				b.Fatalf("%s: %v", st.q, err)
			}
			if k, _ := res.RowsAffected(); k != n {
				b.Fatalf("raw SQL wrote %d rows", k)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	works := []struct {
		name string
		run  func() int // users given a code
	}{
		{"new-users", func() int { return cb.generate(b, boss).Done }},
		{"users-action", func() int { return cb.generateAction(b, boss).Affected }},
	}
	for _, w := range works {
		b.Run(benchDB(b)+"/work="+w.name, func(b *testing.B) {
			var rawCodesTime, rawWrites time.Duration
			b.StopTimer()
			for i := 0; i < b.N; i++ {
				rawCodesTime += raw([]stmt{rawCodes(time.Now().UTC())})
				cb.resetCodes(b, account.ID)
				b.StartTimer()
				got := w.run()
				b.StopTimer()
				if got != n {
					b.Fatalf("generated %d codes", got)
				}
				rawWrites += raw(rawAll(time.Now().UTC()))
			}
			onramp := float64(b.Elapsed().Nanoseconds())
			b.ReportMetric(float64(rawCodesTime.Nanoseconds())/float64(b.N), "codes-raw-ns/op")
			b.ReportMetric(onramp/float64(rawCodesTime.Nanoseconds()), "x_codes")
			b.ReportMetric(float64(rawWrites.Nanoseconds())/float64(b.N), "writes-raw-ns/op")
			b.ReportMetric(onramp/float64(rawWrites.Nanoseconds()), "x_writes")
		})
	}
	// Leave the account with its codes, for BenchmarkCodesCSV.
	cb.resetCodes(b, account.ID)
	cb.generate(b, boss)
}

// heapPeak samples HeapInuse every millisecond while fn runs and returns the largest rise above
// what was in use before (after a GC), in bytes.
func heapPeak(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(done)
	wg.Wait()
	if p := peak.Load(); p > base {
		return p - base
	}
	return 0
}

// BenchmarkCodesCSV downloads the CSV of 10,000 and 100,000 active codes through the router
// (a real HTTP server: the body is read and dropped as it arrives), next to the raw SELECT of the
// same rows written as CSV, in the same run. peak-heap-MB is the largest rise of the process's
// HeapInuse (server and client together) during one download: flat, whatever the row count.
func BenchmarkCodesCSV(b *testing.B) {
	cb := newCodesBench(b)
	for _, n := range []int{10_000, 100_000} {
		name := fmt.Sprintf("codes%d", n)
		if n == 100_000 {
			name = "codes" // shares BenchmarkCodesGenerate's account
		}
		account, boss := cb.account(b, name, n)
		var have int
		_ = cb.s.SQLDB().QueryRow("SELECT COUNT(*) FROM registration_codes WHERE account_id = $1", account.ID).Scan(&have)
		if have != n {
			cb.resetCodes(b, account.ID)
			cb.generate(b, boss)
		}
		// Codes expire: keep them active whenever the kept schema is reused.
		cb.exec(b, "UPDATE registration_codes SET expires_at = $2, used_at = NULL, revoked_at = NULL WHERE account_id = $1", account.ID, time.Now().UTC().Add(7*24*time.Hour))
		cb.exec(b, "ANALYZE registration_codes")
		c := cb.app.client()
		c.signIn(boss.Email)
		download := func() int64 {
			req, _ := http.NewRequest(http.MethodGet, cb.app.srv.URL+"/access/directory-services/provisioning/codes.csv", nil)
			res, err := c.http.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			defer res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Fatalf("status %d", res.StatusCode)
			}
			// Count lines as they stream past, keeping none.
			var lines int64
			sc := bufio.NewScanner(res.Body)
			for sc.Scan() {
				lines++
			}
			if err := sc.Err(); err != nil {
				b.Fatal(err)
			}
			return lines
		}
		rawQuery := `SELECT u.first_name, u.last_name, u.email, c.encrypted, c.expires_at
			FROM registration_codes c JOIN sdp_users u ON u.id = c.sdp_user_id
			WHERE c.account_id = $1 AND c.used_at IS NULL AND c.revoked_at IS NULL AND c.expires_at > $2 AND c.encrypted <> ''
			ORDER BY c.id`
		rawCSV := func() int64 {
			rows, err := cb.s.SQLDB().Query(rawQuery, account.ID, time.Now().UTC())
			if err != nil {
				b.Fatal(err)
			}
			defer rows.Close()
			w := csv.NewWriter(io.Discard)
			_ = w.Write([]string{"First Name", "Last Name", "Email", "Registration Code", "Expires At"})
			var lines int64 = 1
			var first, last, email, enc string
			var exp time.Time
			for rows.Next() {
				if err := rows.Scan(&first, &last, &email, &enc, &exp); err != nil {
					b.Fatal(err)
				}
				_ = w.Write([]string{first, last, email, enc, exp.UTC().Format(time.RFC3339)})
				lines++
			}
			w.Flush()
			return lines
		}
		b.Run(fmt.Sprintf("%s/rows=%d", benchDB(b), n), func(b *testing.B) {
			if got := download(); got != int64(n)+1 {
				b.Fatalf("%d lines", got)
			}
			peak := heapPeak(func() { download() })
			rawPeak := heapPeak(func() { rawCSV() })
			rawStart := time.Now()
			for i := 0; i < b.N; i++ {
				if got := rawCSV(); got != int64(n)+1 {
					b.Fatalf("raw: %d lines", got)
				}
			}
			raw := time.Since(rawStart)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				download()
			}
			b.StopTimer()
			b.ReportMetric(float64(raw.Nanoseconds())/float64(b.N), "raw-ns/op")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(raw.Nanoseconds()), "x_raw")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(rawPeak)/(1<<20), "raw-peak-heap-MB")
		})
	}
}
