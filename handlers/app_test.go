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
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"onramp/handlers"
	"onramp/models"
	"onramp/models/admins"
	"onramp/models/auth"
	"onramp/models/codes"
	"onramp/models/devices"
	"onramp/models/events"
	"onramp/models/mail"
	"onramp/models/password"
	"onramp/models/portal"
	"onramp/models/provisioning"
	"onramp/models/runs"
	"onramp/models/secret"
	"onramp/models/store"
	"onramp/models/store/storetest"
	"onramp/models/users"
)

// testApp is the real router on an httptest server over a fresh database.
type testApp struct {
	t      testing.TB
	srv    *httptest.Server
	store  *store.Store
	auth   *auth.Service
	admins *admins.Service
	users  *users.Service
	portal *portal.Service
	outbox *mail.Outbox
	// devices is the client API's service; sealer finds codes (tests insert codes with it).
	devices *devices.Service
	sealer  *codes.Sealer
	// codes generates and exports codes; its jobs run on the outbox's River client, started by
	// startJobs (codes_test.go).
	codes *codes.Service
	// runs works through code generations and large user actions (on the same River client).
	runs *runs.Runner

	mu  sync.Mutex
	now time.Time
}

const testPassword = "violet harbour lantern"

func newApp(t *testing.T, opts ...appOption) *testApp {
	t.Helper()
	return newAppOn(t, storetest.Open(t), opts...)
}

// newAppOn builds the app over a given store (benchmarks bring their own large database).
func newAppOn(t testing.TB, s *store.Store, opts ...appOption) *testApp {
	t.Helper()
	a := &testApp{t: t, store: s, now: time.Now().UTC()}
	hasher := password.NewFastHasher()
	keys := secret.NewKeys([]byte("test-secret-test-secret-test-secret!"))
	a.auth = auth.New(s, hasher, keys, auth.Config{}).WithClock(a.clock)
	a.admins = admins.New(s, hasher, time.Hour)
	a.portal = portal.New(s, hasher, keys, portal.Config{}).WithClock(a.clock)
	a.runs = runs.New(s, nil).WithClock(a.clock)
	a.codes = codes.NewService(s, keys, codes.Config{Runs: a.runs}).WithClock(a.clock)
	a.outbox = newTestOutbox(t, s, append(opts, withJobs(a.codes), withJobs(a.runs))) // outbox_test.go
	a.runs.UseQueue(a.outbox.Queue())
	a.sealer = codes.NewSealer(keys)
	a.devices = devices.New(s, a.sealer, a.portal).WithClock(a.clock)
	a.users = users.New(s, a.outbox, users.Config{BaseURL: "http://onramp.test", Codes: a.codes, Devices: a.devices, Runs: a.runs}).WithClock(a.clock)
	router := handlers.New(handlers.Deps{
		Auth:         a.auth,
		Admins:       a.admins,
		Users:        a.users,
		Provisioning: provisioning.New(s),
		Events:       events.New(s).WithClock(a.clock),
		DB:           s,
		Portal:       a.portal,
		Devices:      a.devices,
		Codes:        a.codes,
		Outbox:       a.outbox,
		Keys:         keys,
		BaseURL:      "http://onramp.test",
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	a.srv = httptest.NewServer(router)
	t.Cleanup(a.srv.Close)
	return a
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
	adm, _, err := a.admins.Create(context.Background(), admins.CreateInput{Account: account, Email: email, Name: "Test " + string(role), Role: role, Password: testPassword})
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

func snippet(s string) string {
	if len(s) > 1500 {
		return s[:1500] + "…"
	}
	return s
}

func addInput(i int) admins.AddInput {
	return admins.AddInput{Email: fmt.Sprintf("staff%02d@example.com", i), Name: fmt.Sprintf("Staff %02d", i), Role: models.RoleHelpdesk}
}
