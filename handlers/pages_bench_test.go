//go:build bench

package handlers_test

import (
	"database/sql"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"onramp/models/store"
)

// statement is one statement a page ran, as the store sent it.
type statement struct {
	sql  string
	args []any
}

// pageTrace records the statements the store runs while recording is on (store.Trace).
type pageTrace struct {
	mu    sync.Mutex
	on    bool
	stmts []statement
}

func tracePages(b *testing.B, s *store.Store) *pageTrace {
	b.Helper()
	t := &pageTrace{}
	if err := s.Trace(t.add); err != nil {
		b.Fatal(err)
	}
	return t
}

func (t *pageTrace) add(q string, args []any) {
	t.mu.Lock()
	if t.on {
		t.stmts = append(t.stmts, statement{q, args})
	}
	t.mu.Unlock()
}

// record runs fn and returns the statements the store ran meanwhile.
func (t *pageTrace) record(fn func()) []statement {
	t.mu.Lock()
	t.on, t.stmts = true, nil
	t.mu.Unlock()
	fn()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.on = false
	return t.stmts
}

// replayRaw runs stmts raw through database/sql (the same pool and driver as the store), reading
// every row of every one into plain values, in transactions where the page had them: the
// database's share of a page, with no ORM, handler or template around it.
func replayRaw(b *testing.B, db *sql.DB, stmts []statement) {
	var tx *sql.Tx
	for _, st := range stmts {
		var err error
		switch st.sql {
		case "BEGIN":
			tx, err = db.Begin()
		case "COMMIT":
			err, tx = tx.Commit(), nil
		case "ROLLBACK":
			err, tx = tx.Rollback(), nil
		default:
			query := db.Query
			if tx != nil {
				query = tx.Query
			}
			err = readAll(query(st.sql, st.args...))
		}
		if err != nil {
			b.Fatalf("%v\n%s", err, st.sql)
		}
	}
}

// readAll reads every row of rows into plain values and closes them.
func readAll(rows *sql.Rows, err error) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for j := range vals {
		ptrs[j] = &vals[j]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
	}
	return rows.Err()
}

// benchPage measures the server time of GET path (the router's ServeHTTP with the signed-in
// cookies, no network) against the same statements replayed raw: each iteration first replays
// the statements the previous request ran, then serves the page again, recording its
// statements (a cache refreshed now and then is replayed as it happened), so that the two
// sides alternate and the machine's noise hits both. It reports the page as ns/op, the raw
// statements as stmts-raw-ns/op, their ratio x_stmts and the statements a page ran (stmts/op).
// want is a fragment the page must show.
func benchPage(b *testing.B, a *testApp, tr *pageTrace, cookies []*http.Cookie, path, want string) {
	b.Helper()
	serve := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		for _, ck := range cookies {
			r.AddCookie(ck)
		}
		rec := httptest.NewRecorder()
		a.srv.Config.Handler.ServeHTTP(rec, r)
		return rec
	}
	var rec *httptest.ResponseRecorder
	stmts := tr.record(func() { rec = serve() })
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
		b.Fatalf("%s: %d, want %q in\n%.800s", path, rec.Code, want, rec.Body.String())
	}
	if os.Getenv("BENCH_STATEMENTS") != "" {
		for _, st := range stmts {
			b.Logf("%s %v", st.sql, st.args)
		}
	}
	db := a.store.SQLDB()
	var page, raw time.Duration
	count := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		replayRaw(b, db, stmts)
		mid := time.Now()
		stmts = tr.record(func() { rec = serve() })
		page += time.Since(mid)
		raw += mid.Sub(start)
		count += len(stmts)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d", path, rec.Code)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(page.Nanoseconds())/float64(b.N), "ns/op")
	b.ReportMetric(float64(raw.Nanoseconds())/float64(b.N), "stmts-raw-ns/op")
	b.ReportMetric(float64(page)/float64(raw), "x_stmts")
	b.ReportMetric(float64(count)/float64(b.N), "stmts/op")
}
