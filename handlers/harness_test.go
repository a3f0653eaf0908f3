package handlers_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"onramp/handlers"
	"onramp/migrations"
	"onramp/models"
	"onramp/models/admins"
	"onramp/models/codes"
	"onramp/models/jobs"
	"onramp/models/mail"
	"onramp/models/mail/mailtest"
	"onramp/models/password"
	"onramp/models/secret"
	"onramp/models/services"
	"onramp/models/store"
	"onramp/models/store/storetest"
	"onramp/views/emails"
)

// testApp is the real router on an httptest server over a fresh database, with the services
// serve builds (models/services).
type testApp struct {
	t     testing.TB
	srv   *httptest.Server
	store *store.Store
	*services.Services
	// sealer finds codes (tests insert codes with it).
	sealer *codes.Sealer
	// keys are the services' keys (benchmarks seal an LDAP bind password with them).
	keys *secret.Keys
	// jobsStarted is set once startJobs ran (withSMTP starts them at once).
	jobsStarted bool

	mu  sync.Mutex
	now time.Time
}

const testPassword = "violet harbour lantern"

// testMetricsToken is the bearer token of every test app's /metrics (metrics_test.go).
const testMetricsToken = "metrics-token-for-tests"

func TestMain(m *testing.M) {
	code := m.Run()
	stopChromium() // harness_browser_test.go
	os.Exit(code)
}

// appOption changes how newApp builds the services.
type appOption func(testing.TB, *services.Config)

func newApp(t *testing.T, opts ...appOption) *testApp {
	t.Helper()
	return newAppOn(t, storetest.Open(t), opts...)
}

// newAppOn builds the app over a given store (benchmarks bring their own large database).
func newAppOn(t testing.TB, s *store.Store, opts ...appOption) *testApp {
	t.Helper()
	keys := secret.NewKeys([]byte("test-secret-test-secret-test-secret!"))
	a := &testApp{t: t, store: s, keys: keys, now: time.Now().UTC()}
	cfg := services.Config{
		Keys:     keys,
		Hasher:   password.NewFastHasher(),
		BaseURL:  "http://onramp.test",
		Mail:     mail.Config{From: "Onramp <onramp@onramp.test>", MaxAttempts: 100},
		Renderer: emails.NewRenderer("http://onramp.test"),
		Jobs:     jobs.Config{RetryDelay: 20 * time.Millisecond, PollInterval: 20 * time.Millisecond},
		Clock:    a.clock,
		// A wait for a turn (a client past its redemption budget) moves the app's clock instead.
		Sleep: func(_ context.Context, d time.Duration) error { a.advance(d); return nil },
	}
	for _, o := range opts {
		o(t, &cfg)
	}
	// The server listens before the services are built, so that withServedBaseURL can point
	// links (the single sign-on redirect URI) at it.
	a.srv = httptest.NewUnstartedServer(nil)
	t.Cleanup(a.srv.Close)
	if cfg.BaseURL == servedBaseURL {
		cfg.BaseURL = "http://" + a.srv.Listener.Addr().String()
	}
	sv, err := services.New(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.Services = sv
	a.sealer = sv.Codes.Sealer()
	// River runs only when there is an SMTP server to deliver to, or when a test starts it.
	if cfg.Mail.Sender != nil {
		a.startJobs()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	router := handlers.New(sv, handlers.Config{Keys: keys, BaseURL: cfg.BaseURL, MetricsToken: testMetricsToken, Logger: log})
	a.srv.Config.Handler = router
	a.srv.Start()
	return a
}

// servedBaseURL, as the services' BaseURL, stands for the test server's own URL.
const servedBaseURL = "served"

// withServedBaseURL makes the app's public URL the test server's, for a browser that must
// come back to it (single sign-on's redirect URI).
func withServedBaseURL(_ testing.TB, cfg *services.Config) { cfg.BaseURL = servedBaseURL }

// startJobs starts the River client (mail delivery, the runs and the codes jobs) until the test
// ends, stopping it before the database closes. Without it a run stays queued, which some
// tests want.
func (a *testApp) startJobs() {
	a.t.Helper()
	if a.jobsStarted {
		return
	}
	a.jobsStarted = true
	if err := a.Jobs.Start(context.Background()); err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Jobs.Stop(ctx); err != nil {
			a.t.Errorf("stopping the jobs: %v", err)
		}
	})
}

func (a *testApp) clock() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now
}

// advance moves the services' clock forward.
func (a *testApp) advance(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.now = a.now.Add(d)
}

// createAdmin makes an admin with testPassword in account (created when missing).
func (a *testApp) createAdmin(account, email string, role models.Role) *models.Admin {
	a.t.Helper()
	adm, _, err := a.Admins.Create(context.Background(), admins.CreateInput{Account: account, Email: email, Name: "Test " + string(role), Role: role, Password: testPassword})
	if err != nil {
		a.t.Fatal(err)
	}
	return adm
}

// eventCount counts events of a sub-type across the deployment.
func (a *testApp) eventCount(sub string) int {
	a.t.Helper()
	return a.countSQL("SELECT COUNT(*) FROM events WHERE sub_type = ?", sub)
}

// client is a browser-like HTTP client with a cookie jar that does not follow redirects.
type client struct {
	t    testing.TB
	app  *testApp
	http *http.Client
	csrf string
	// header is added to every request.
	header http.Header
}

func (a *testApp) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: a.t, app: a, header: http.Header{}, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	*http.Response
	body string
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (c *client) do(req *http.Request) response {
	c.t.Helper()
	for k, v := range c.header {
		req.Header[k] = v
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := response{Response: res, body: string(b)}
	if m := csrfRE.FindStringSubmatch(r.body); m != nil {
		c.csrf = m[1]
	}
	return r
}

func (c *client) get(path string) response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.app.srv.URL+path, nil)
	return c.do(req)
}

// post sends a form with the CSRF token scraped from the last page.
func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("_csrf") == "" && c.csrf != "" {
		form.Set("_csrf", c.csrf)
	}
	return c.postRaw(path, form)
}

// postRaw sends a form as it is, without adding a token.
func (c *client) postRaw(path string, form url.Values) response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.app.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// signIn signs in through the form and fails the test unless it works.
func (c *client) signIn(email string) {
	c.t.Helper()
	c.get("/login")
	r := c.post("/login", url.Values{"email": {email}, "password": {testPassword}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		c.t.Fatalf("sign-in as %s: %d %s", email, r.StatusCode, r.Header.Get("Location"))
	}
}

func (c *client) cookies() []*http.Cookie {
	u, _ := url.Parse(c.app.srv.URL)
	return c.http.Jar.Cookies(u)
}

func expectStatus(t *testing.T, r response, want int) {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, want, snippet(r.body))
	}
}

func expectBody(t *testing.T, r response, want string) {
	t.Helper()
	if !strings.Contains(r.body, want) {
		t.Fatalf("%s %s: body lacks %q\n%s", r.Request.Method, r.Request.URL.Path, want, snippet(r.body))
	}
}

var nonceRE = regexp.MustCompile(`nonce="[^"]*"`)

// page is a response's body without what differs between any two answers (the CSP nonce, the
// CSRF token of the client's session) and with each given string replaced by "…": two answers
// whose pages are equal tell nothing apart.
func (r response) page(vary ...string) string {
	body := nonceRE.ReplaceAllString(r.body, `nonce=""`)
	if m := csrfRE.FindStringSubmatch(body); m != nil {
		body = strings.ReplaceAll(body, m[1], "")
	}
	for _, v := range vary {
		body = strings.ReplaceAll(body, v, "…")
	}
	return body
}

func snippet(s string) string {
	if len(s) > 1500 {
		return s[:1500] + "…"
	}
	return s
}

func addInput(i int) admins.AddInput {
	return admins.AddInput{Email: fmt.Sprintf("staff%02d@example.com", i), Name: fmt.Sprintf("Staff %02d", i), Role: models.RoleHelpdesk}
}

func cookieValue(c *client, name string) string {
	for _, ck := range c.cookies() {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// rebind turns ? placeholders into PostgreSQL's $n when the app runs on PostgreSQL.
func (a *testApp) rebind(q string) string {
	if a.store.Dialect() != migrations.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// execSQL runs a statement written with ? placeholders on either database.
func (a *testApp) execSQL(q string, args ...any) {
	a.t.Helper()
	if _, err := a.store.SQLDB().Exec(a.rebind(q), args...); err != nil {
		a.t.Fatalf("%s: %v", q, err)
	}
}

// countSQL runs a COUNT query written with ? placeholders.
func (a *testApp) countSQL(q string, args ...any) int {
	a.t.Helper()
	var n int
	if err := a.store.SQLDB().QueryRow(a.rebind(q), args...).Scan(&n); err != nil {
		a.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// withLog sends every log line of the services and the router, at every level, to w.
func withLog(w io.Writer) appOption {
	return func(_ testing.TB, c *services.Config) {
		c.Logger = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

// withSMTP delivers the app's mail to a test SMTP server through the real River worker, with
// retries milliseconds apart. Without it, mail is held (no SMTP configured).
func withSMTP(srv *mailtest.Server) appOption {
	return func(t testing.TB, c *services.Config) {
		sc, err := mail.ParseSMTPURL(srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		if c.Mail.Sender, err = mail.NewSMTPSender(sc); err != nil {
			t.Fatal(err)
		}
	}
}
