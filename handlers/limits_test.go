package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/codes"
	"onramp/models/devices"
	"onramp/models/password"
	"onramp/models/services"
)

// burst sends n requests at once (each built by req(i)) and counts the answers by status.
func burst(t *testing.T, n int, req func(i int) int) map[int]int {
	t.Helper()
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		got   = map[int]int{}
		start = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			status := req(i)
			mu.Lock()
			got[status]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return got
}

// postAs is a form POST of client c with the CSRF token it holds now, safe to run beside
// other requests (it reads nothing back into c).
func (c *client) postAs(path string, form url.Values) int {
	form.Set("_csrf", c.csrf)
	req, _ := http.NewRequest(http.MethodPost, c.app.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.http.Do(req)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// TestBurstsCheckExactlyTheBudget: of many attempts at once, exactly the documented number is
// checked and the rest are refused with 429, on every door with a failure budget. (The old
// limiter checked first and counted failures after, so a burst was checked whole.)
func TestBurstsCheckExactlyTheBudget(t *testing.T) {
	t.Parallel()
	const n = 40

	t.Run("console sign-in, per email", func(t *testing.T) {
		t.Parallel()
		a := newApp(t)
		a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
		cs := make([]*client, n)
		for i := range cs {
			cs[i] = a.client()
			cs[i].get("/login")
		}
		got := burst(t, n, func(i int) int {
			return cs[i].postAs("/login", url.Values{"email": {"ada@example.com"}, "password": {fmt.Sprintf("wrong guess %02d", i)}})
		})
		if got[http.StatusUnauthorized] != 5 || got[http.StatusTooManyRequests] != n-5 {
			t.Fatalf("answers %v, want 5 checked (401) and %d refused (429)", got, n-5)
		}
		if e := a.eventCount(models.SubSignInFailed); e != 5 {
			t.Fatalf("%d Sign-in Failed events, want 5", e)
		}
	})

	t.Run("portal sign-in, per account and email", func(t *testing.T) {
		t.Parallel()
		a := newApp(t)
		a.activeSDPUser("acme", "grace@example.com")
		cs := make([]*client, n)
		for i := range cs {
			cs[i] = a.client()
			cs[i].get("/myvpn/login")
		}
		got := burst(t, n, func(i int) int {
			return cs[i].postAs("/myvpn/login", url.Values{"account": {"acme"}, "email": {"grace@example.com"},
				"password": {fmt.Sprintf("wrong guess %02d", i)}})
		})
		if got[http.StatusUnauthorized] != 5 || got[http.StatusTooManyRequests] != n-5 {
			t.Fatalf("answers %v, want 5 checked (401) and %d refused (429)", got, n-5)
		}
	})

	t.Run("console password change, per admin", func(t *testing.T) {
		t.Parallel()
		a := newApp(t)
		a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
		cs := make([]*client, 20)
		for i := range cs {
			cs[i] = a.client()
			cs[i].signIn("ada@example.com")
			cs[i].get("/account/password")
		}
		got := burst(t, len(cs), func(i int) int {
			return cs[i].postAs("/account/password", url.Values{"current_password": {fmt.Sprintf("wrong guess %02d", i)},
				"password": {"a brand new passphrase"}, "password_confirm": {"a brand new passphrase"}})
		})
		if got[http.StatusUnprocessableEntity] != 5 || got[http.StatusTooManyRequests] != len(cs)-5 {
			t.Fatalf("answers %v, want 5 checked (422) and %d refused (429)", got, len(cs)-5)
		}
	})

	t.Run("client API sign-in, per account and email", func(t *testing.T) {
		t.Parallel()
		a := newApp(t)
		a.activeSDPUser("acme", "grace@example.com")
		got := burst(t, n, func(i int) int {
			r, err := a.apiCall("POST", "/api/v1/client/login", "", loginBody("grace@example.com", fmt.Sprintf("wrong guess %02d", i), ""))
			if err != nil {
				return 0
			}
			return r.status
		})
		if got[http.StatusUnauthorized] != 5 || got[http.StatusTooManyRequests] != n-5 {
			t.Fatalf("answers %v, want 5 checked (401) and %d refused (429)", got, n-5)
		}
	})

	t.Run("activation, per client", func(t *testing.T) {
		t.Parallel()
		a := newApp(t)
		c := a.client()
		c.get("/myvpn/login")
		got := burst(t, n, func(i int) int {
			return c.postAs(fmt.Sprintf("/myvpn/activate/guess-%02d", i), url.Values{"password": {newPortalPassword}, "password_confirm": {newPortalPassword}})
		})
		if got[http.StatusGone] != 20 || got[http.StatusTooManyRequests] != n-20 {
			t.Fatalf("answers %v, want 20 checked (410) and %d refused (429)", got, n-20)
		}
	})

	t.Run("portal password change, per user", func(t *testing.T) {
		t.Parallel()
		a := newApp(t)
		a.activeSDPUser("acme", "grace@example.com")
		cs := make([]*client, 20)
		for i := range cs {
			cs[i] = a.client()
			cs[i].portalSignIn("acme", "grace@example.com", testPassword, "")
			cs[i].get("/myvpn/password")
		}
		got := burst(t, len(cs), func(i int) int {
			return cs[i].postAs("/myvpn/password", url.Values{"current_password": {fmt.Sprintf("wrong guess %02d", i)},
				"password": {newPortalPassword}, "password_confirm": {newPortalPassword}})
		})
		if got[http.StatusUnprocessableEntity] != 5 || got[http.StatusTooManyRequests] != len(cs)-5 {
			t.Fatalf("answers %v, want 5 checked (422) and %d refused (429)", got, len(cs)-5)
		}
	})

	t.Run("code redemption, per client", func(t *testing.T) {
		t.Parallel()
		a := newApp(t)
		// The one redemption past the budget that may wait for its turn does not wait here.
		a.Devices.WithSleep(func(context.Context, time.Duration) error { return nil })
		const m = 200
		got := burst(t, m, func(int) int {
			r, err := a.apiCall("POST", "/api/v1/client/register", "", registerBody(codes.Format(codes.New()), "laptop"))
			if err != nil {
				return 0
			}
			return r.status
		})
		checked := devices.DefaultLimits.IPFailBurst + 1 // the budget, and one turn that waits
		if got[http.StatusUnauthorized] != checked || got[http.StatusTooManyRequests] != m-checked {
			t.Fatalf("answers %v, want %d checked (401) and %d refused (429)", got, checked, m-checked)
		}
		if e := a.eventCount(models.SubClientCodeRejected); e != checked {
			t.Fatalf("%d Code Rejected events, want %d", e, checked)
		}
	})
}

// TestBusyHashingAnswers503: while every password-hashing slot is taken, the doors that check
// a password answer 503 with Retry-After (a page on the console and the portal, JSON on the
// client API), never 500, and nothing counts against the person's failure budget.
func TestBusyHashingAnswers503(t *testing.T) {
	t.Parallel()
	// One slot, no wait: a request finds it taken and hashes nothing.
	h := password.NewFastHasher().WithLimit(1, 0)
	a := newApp(t, func(_ testing.TB, c *services.Config) { c.Hasher = h })
	a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	a.sdpUser("acme", "grace@example.com")
	c := a.client()
	c.get("/login")
	for _, door := range []struct {
		name string
		send func() (int, http.Header)
	}{
		{"console", func() (int, http.Header) {
			r := c.post("/login", url.Values{"email": {"ada@example.com"}, "password": {testPassword}})
			return r.StatusCode, r.Header
		}},
		{"portal", func() (int, http.Header) {
			r := c.portalLogin("acme", "grace@example.com", testPassword, "")
			return r.StatusCode, r.Header
		}},
		{"client API", func() (int, http.Header) {
			r := a.api("POST", "/api/v1/client/login", "", loginBody("grace@example.com", testPassword, ""))
			if r.str("error") != "busy" {
				t.Errorf("client API error %q, want busy", r.str("error"))
			}
			return r.status, r.header
		}},
	} {
		release, err := h.Hold() // the only slot, for as long as the request takes
		if err != nil {
			t.Fatal(err)
		}
		status, hdr := door.send()
		release()
		if status != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
			t.Errorf("%s: %d (Retry-After %q), want 503 with Retry-After", door.name, status, hdr.Get("Retry-After"))
		}
	}
	if n := a.eventCount(models.SubSignInFailed); n != 0 {
		t.Fatalf("%d Sign-in Failed events: a busy server counted against the people signing in", n)
	}
}
