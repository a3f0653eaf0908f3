//go:build bench

package handlers_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/codes"
	"onramp/models/store"
)

// freshBenchStore is an empty, migrated database of its own (benchSchema), dropped after the
// benchmark.
func freshBenchStore(b *testing.B) *store.Store {
	b.Helper()
	raw := make([]byte, 4)
	_, _ = rand.Read(raw)
	return benchSchema(b, "bench_tmp_"+hex.EncodeToString(raw), true)
}

// latencies runs work for every item with 16 concurrent workers and returns each call's time.
func latencies(items []string, work func(string) error) ([]time.Duration, time.Duration, error) {
	ch := make(chan string)
	var mu sync.Mutex
	var out []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range ch {
				t0 := time.Now()
				err := work(it)
				d := time.Since(t0)
				mu.Lock()
				out = append(out, d)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	for _, it := range items {
		ch <- it
	}
	close(ch)
	wg.Wait()
	return out, time.Since(start), firstErr
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

type benchError string

func (e benchError) Error() string { return string(e) }

// BenchmarkRedemption measures code redemption through the client API (POST
// /api/v1/client/register through the router, 16 concurrent clients, each on its own code) and
// the same conditional UPDATE issued directly by 16 goroutines, in the same run: throughput, p50
// and p99 of both, and x_raw = raw throughput / API throughput.
func BenchmarkRedemption(b *testing.B) { b.Run(benchDB(b), benchRedemption) }

func benchRedemption(b *testing.B) {
	s := freshBenchStore(b)
	a := newAppOn(b, s)
	boss := a.createAdmin("bench", "bench@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, 200, nil)
	mint := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = a.insertCode(us[i%len(us)], time.Hour)
		}
		return out
	}
	apiCodes, rawCodes := mint(b.N), mint(b.N)
	handler := a.srv.Config.Handler

	b.ResetTimer()
	apiLat, apiTime, err := latencies(apiCodes, func(code string) error {
		body, _ := json.Marshal(registerBody(code, "bench laptop"))
		req := httptest.NewRequest(http.MethodPost, "/api/v1/client/register", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			return benchError(rec.Body.String())
		}
		return nil
	})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	db := s.SQLDB()
	rawLat, rawTime, err := latencies(rawCodes, func(code string) error {
		n, _ := codes.Normalize(code)
		res, err := db.Exec(`UPDATE registration_codes SET used_at = $2, encrypted = ''
			WHERE lookup_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2`, a.sealer.Lookup(n), time.Now().UTC())
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k != 1 {
			return benchError("raw redemption matched no row")
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	apiRate := float64(b.N) / apiTime.Seconds()
	rawRate := float64(b.N) / rawTime.Seconds()
	b.ReportMetric(apiRate, "redeem/s")
	b.ReportMetric(float64(percentile(apiLat, 0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(apiLat, 0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(rawRate, "raw-redeem/s")
	b.ReportMetric(float64(percentile(rawLat, 0.50).Microseconds())/1000, "raw-p50-ms")
	b.ReportMetric(float64(percentile(rawLat, 0.99).Microseconds())/1000, "raw-p99-ms")
	b.ReportMetric(rawRate/apiRate, "x_raw")
}
