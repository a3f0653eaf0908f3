//go:build bench

package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"onramp/handlers"
	"onramp/models"
	"onramp/models/apitokens"
)

// apiCreateUsers is how many users one iteration of BenchmarkAPICreate creates, one request each.
const apiCreateUsers = 10_000

// BenchmarkAPICreate measures creating users through the admin REST API as an HR system's
// script does: 10,000 POST /api/v1/users, one user each, from 16 concurrent clients over real
// HTTP (loopback TCP, keep-alive connections) with one API token, under the default
// provisioning settings (Invitation Email: each user invited; no SMTP server, so the invitations
// are held). The token's rate limit is lifted: the benchmark measures the work, not the budget.
// Baseline "sql", in the same run right after each product phase: 16 goroutines on 16
// database connections do every write of those creates in raw SQL, one transaction per user
// (the token's last use once a minute, the user, its Created event, the retired and new
// activation token, the user marked invited, the invitation email and its Invited event).
// Reported: ns/op per 10,000 creates, sql-raw-ns/op, x_sql = product / raw, creates/s and p99
// latencies of both.
func BenchmarkAPICreate(b *testing.B) { b.Run(benchDB(b), benchAPICreate) }

func benchAPICreate(b *testing.B) {
	s := freshBenchStore(b)
	a := newAppOn(b, s)
	ctx := context.Background()
	boss := a.createAdmin("bench", "bench@example.com", models.RoleAdmin)
	token, t, err := a.Tokens.CreateForAccount(ctx, "bench", apitokens.CreateInput{Name: "bench", Scopes: []string{"users:write"}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(handlers.New(a.Services, handlers.Config{Keys: a.keys, BaseURL: "http://onramp.test", APIBurst: 1 << 30}))
	b.Cleanup(srv.Close)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, MaxConnsPerHost: 16}}
	b.Cleanup(hc.CloseIdleConnections)
	create := func(email string) error {
		given := strings.TrimSuffix(email, "@bench.test")
		body := fmt.Sprintf(`{"first_name":%q,"last_name":"Bench","email":%q}`, given, email)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/users", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		got, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusCreated {
			return benchError(fmt.Sprintf("%s: %d %s", email, res.StatusCode, got))
		}
		return nil
	}
	raw := &rawUserCreate{db: s.SQLDB(), accountID: boss.AccountID, origin: models.OriginManual, actorType: models.ActorAPIToken,
		actorID: t.ID, actorLabel: "API token " + t.Name, reason: "new user", tokenID: t.ID,
		touch: "UPDATE api_tokens SET last_used_at = $1, last_used_ip = $2 WHERE account_id = $3 AND id = $4"}

	var apiLat, rawLat []time.Duration
	var rawTime time.Duration
	b.ResetTimer()
	for i := range b.N {
		emails := func(prefix string) []string {
			out := make([]string, apiCreateUsers)
			for j := range out {
				out[j] = fmt.Sprintf("%s%d-%05d@bench.test", prefix, i, j)
			}
			return out
		}
		lat, _, err := latencies(emails("api"), create)
		if err != nil {
			b.Fatal(err)
		}
		apiLat = append(apiLat, lat...)
		b.StopTimer()
		if i == 0 {
			raw.copyMail(b)
		}
		lat, took, err := latencies(emails("raw"), raw.create)
		if err != nil {
			b.Fatal(err)
		}
		rawLat, rawTime = append(rawLat, lat...), rawTime+took
		// Both wrote the same rows: a user invited, two events, a token and a held email each.
		for _, prefix := range []string{"api", "raw"} {
			got := a.countSQL(`SELECT COUNT(*) FROM sdp_users u WHERE u.account_id = ? AND u.email LIKE ?
				AND u.activation = 'invitation_sent' AND u.origin = 'manual'
				AND EXISTS (SELECT 1 FROM one_time_tokens t WHERE t.sdp_user_id = u.id AND t.purpose = 'user_activation' AND t.used_at IS NULL)
				AND EXISTS (SELECT 1 FROM mail_messages m WHERE m.sdp_user_id = u.id AND m.status = 'held')
				AND (SELECT COUNT(*) FROM events e WHERE e.account_id = u.account_id AND e.sdp_user_id = u.id AND e.sub_type IN ('Created', 'Invited')
					AND e.actor_type = 'token') = 2`,
				boss.AccountID, fmt.Sprintf("%s%d-%%", prefix, i))
			if got != apiCreateUsers {
				b.Fatalf("%s: %d of %d users have every row of a create", prefix, got, apiCreateUsers)
			}
		}
		b.StartTimer()
	}
	b.StopTimer()
	apiTime := b.Elapsed()
	users := float64(b.N * apiCreateUsers)
	b.ReportMetric(users/apiTime.Seconds(), "creates/s")
	b.ReportMetric(float64(percentile(apiLat, 0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(users/rawTime.Seconds(), "raw_sql-creates/s")
	b.ReportMetric(float64(percentile(rawLat, 0.99).Microseconds())/1000, "raw_sql-p99-ms")
	b.ReportMetric(float64(rawTime.Nanoseconds())/float64(b.N), "sql-raw-ns/op")
	b.ReportMetric(float64(apiTime.Nanoseconds())/float64(rawTime.Nanoseconds()), "x_sql")
}
