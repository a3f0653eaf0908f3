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
// Reported: ns/op per 10,000 creates, sql-raw-ns/op, x_sql = product / raw, creates/s and
// p50 / p99 latencies of both.
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

	runCreates(b, a, raw, createRun{product: "api", n: apiCreateUsers, create: create, origin: models.OriginManual, actor: models.ActorAPIToken,
		rawMetric: "sql", ratioMetric: "x_sql"})
}
