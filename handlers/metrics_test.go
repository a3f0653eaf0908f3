package handlers_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"onramp/handlers"
	"onramp/models"
	"onramp/models/mail/mailtest"
)

// scrape reads the app's /metrics as Prometheus does, with the token.
func (a *testApp) scrape() map[string]*dto.MetricFamily {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+testMetricsToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		a.t.Fatalf("GET /metrics: %d %s", res.StatusCode, b)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return fams
}

// sample is the value of the series of family name whose labels include want: a counter's or
// a gauge's value, a histogram's count of observations; -1 when there is no such series.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

type want struct {
	name   string
	labels map[string]string
	value  float64
}

func expectSamples(t *testing.T, fams map[string]*dto.MetricFamily, ws []want) {
	t.Helper()
	for _, w := range ws {
		if got := sample(fams, w.name, w.labels); got != w.value {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.value)
		}
	}
}

// A short scripted scenario (sign in, generate codes, redeem one good and one bad code, a
// sign-in refused past its budget, an email through SMTP, another refused by it), then one
// scrape: each series says what happened, and routes are patterns, never raw paths.
func TestMetricsAfterAScenario(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t)
	srv.RefuseRecipient("bounce@example.com", 550, "No such user")
	a := newApp(t, withSMTP(srv))
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, 3, nil)
	c := a.client()
	c.signIn("boss@example.com")

	c.get("/access/users")
	r := c.post("/access/users/actions", url.Values{"action": {"generate_code"}, "all_matching": {"1"}, "confirm": {"1"}})
	expectStatus(t, r, http.StatusSeeOther)
	a.register(a.codeText(a.userCodes(boss.AccountID, us[0].ID)[0]), "laptop")
	expectAPI(t, a.api("POST", "/api/v1/client/register", "", registerBody("AAAA-BBBB-CCCC-DDDD", "guess")), http.StatusUnauthorized, "invalid_code")

	eve := a.client()
	eve.get("/login")
	for i := range 6 {
		eve.post("/login", url.Values{"email": {"eve@example.com"}, "password": {fmt.Sprintf("guess %d", i)}})
	}
	expectStatus(t, c.get(fmt.Sprintf("/access/users/%d", us[2].ID+1000)), http.StatusNotFound)
	expectStatus(t, c.get("/no/such/page-with-a-token"), http.StatusNotFound)

	a.queueInvitation(boss, "ann@example.com")
	a.queueInvitation(boss, "bounce@example.com")
	// Delivery is in the background: scrape until both emails are through.
	var fams map[string]*dto.MetricFamily
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		fams = a.scrape()
		if sample(fams, "onramp_mail_deliveries_total", map[string]string{"outcome": "sent"}) == 1 &&
			sample(fams, "onramp_job_failures_total", map[string]string{"kind": "mail.deliver"}) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the emails were never delivered nor refused")
		}
	}
	expectSamples(t, fams, []want{
		{"onramp_http_requests_total", map[string]string{"method": "POST", "route": "/login", "status": "303"}, 1},
		{"onramp_http_requests_total", map[string]string{"method": "POST", "route": "/login", "status": "401"}, 5},
		{"onramp_http_requests_total", map[string]string{"method": "POST", "route": "/login", "status": "429"}, 1},
		{"onramp_http_requests_total", map[string]string{"method": "POST", "route": "/api/v1/client/register", "status": "201"}, 1},
		{"onramp_http_requests_total", map[string]string{"method": "POST", "route": "/api/v1/client/register", "status": "401"}, 1},
		{"onramp_http_requests_total", map[string]string{"method": "GET", "route": "/access/users/:id", "status": "404"}, 1},
		{"onramp_http_requests_total", map[string]string{"method": "GET", "route": "unmatched", "status": "404"}, 1},
		{"onramp_http_request_duration_seconds", map[string]string{"method": "POST", "route": "/api/v1/client/register"}, 2},
		{"onramp_rate_limit_refusals_total", map[string]string{"route": "/login"}, 1},
		{"onramp_code_redemptions_total", map[string]string{"outcome": "registered"}, 1},
		{"onramp_code_redemptions_total", map[string]string{"outcome": "invalid_code"}, 1},
		{"onramp_codes_generated_total", map[string]string{"generated_by": "admin"}, 3},
		{"onramp_mail_deliveries_total", map[string]string{"outcome": "sent"}, 1},
		{"onramp_mail_deliveries_total", map[string]string{"outcome": "failed"}, 1},
		{"onramp_mail_delivery_seconds", nil, 1},
		{"onramp_job_failures_total", map[string]string{"kind": "mail.deliver"}, 1},
		{"onramp_mail_messages", map[string]string{"kind": "invitation", "state": "failed"}, 1},
	})
	if sample(fams, "go_sql_open_connections", map[string]string{"db_name": "onramp"}) < 0 {
		t.Error("no database pool series")
	}
	if sample(fams, "go_goroutines", nil) <= 0 {
		t.Error("no Go runtime series")
	}
	for _, m := range fams["onramp_http_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if strings.Contains(l.GetValue(), "page-with-a-token") || strings.Contains(l.GetValue(), fmt.Sprint(us[2].ID+1000)) {
				t.Errorf("a raw path became a label: %v", m.GetLabel())
			}
		}
	}
}

// Work waiting in the queue shows as queue depth, runs in progress and mail held.
func TestMetricsOfWaitingWork(t *testing.T) {
	t.Parallel()
	a := newApp(t) // the queue is not started: the run stays queued, mail is held (no SMTP)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.seedUsers(boss.AccountID, 2, nil)
	a.queueInvitation(boss, "ann@example.com")
	c := a.client()
	c.signIn("boss@example.com")
	c.get("/access/client-access")
	expectStatus(t, c.post("/access/client-access/generate-codes", url.Values{"confirm": {"1"}}), http.StatusSeeOther)

	fams := a.scrape()
	expectSamples(t, fams, []want{
		{"onramp_runs_in_progress", map[string]string{"kind": "generate_codes", "state": "queued"}, 1},
		{"onramp_queue_jobs", map[string]string{"kind": "runs.work", "state": "available"}, 1},
		{"onramp_mail_messages", map[string]string{"kind": "invitation", "state": "held"}, 1},
	})
}

// /metrics needs the token: 401 without it or with another; a router without a token has no
// /metrics at all (404).
func TestMetricsNeedTheToken(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	for _, auth := range []string{"", "Bearer wrong-token", "Basic " + testMetricsToken, "Bearer " + testMetricsToken + "x"} {
		req, _ := http.NewRequest(http.MethodGet, a.srv.URL+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || strings.Contains(string(b), "onramp_") {
			t.Errorf("Authorization %q: %d %.100s", auth, res.StatusCode, b)
		}
		if res.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q: no WWW-Authenticate", auth)
		}
	}
	a.scrape()

	open := httptest.NewServer(handlers.New(a.Services, handlers.Config{Keys: a.keys, BaseURL: "http://onramp.test",
		Logger: slog.New(slog.DiscardHandler)}))
	defer open.Close()
	res, err := http.Get(open.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("/metrics without a token configured: %d, want 404", res.StatusCode)
	}
}
