package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// console is an admin's browser-like HTTP client: a cookie jar, no automatic redirects, and the
// CSRF token scraped from the last page.
type console struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (c *console) do(method, path string, form url.Values) (int, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		if form.Get("_csrf") == "" {
			form.Set("_csrf", c.csrf)
		}
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if m := csrfField.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return res.StatusCode, string(b)
}

func (c *console) expect(method, path string, form url.Values, want int) string {
	c.t.Helper()
	code, body := c.do(method, path, form)
	if code != want {
		c.t.Fatalf("%s %s: %d, want %d\n%.800s", method, path, code, want, body)
	}
	return body
}

// TestEndToEndRegistrationCode runs the Registration Code flow through the binary's own entry
// points: the server, an admin in the console, and the reference VPN client.
func TestEndToEndRegistrationCode(t *testing.T) {
	t.Parallel()
	clientConfig := filepath.Join(t.TempDir(), "client.json")
	env := testEnv(t, map[string]string{"ONRAMP_ADDR": freeAddr(t), "ONRAMP_CLIENT_CONFIG": clientConfig})
	ctx := context.Background()
	if err := run(ctx, []string{"admin", "create", "--account", "acme", "--email", "boss@example.com", "--role", "admin"}, env,
		strings.NewReader("violet harbour lantern\n"), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	base, _ := startServe(t, env, io.Discard)

	jar, _ := cookiejar.New(nil)
	c := &console{t: t, base: base, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	c.expect("GET", "/login", nil, http.StatusOK)
	c.expect("POST", "/login", url.Values{"email": {"boss@example.com"}, "password": {"violet harbour lantern"}}, http.StatusSeeOther)

	// The admin switches the account to registration codes, valid for 2 days.
	c.expect("GET", "/access/directory-services/provisioning", nil, http.StatusOK)
	c.expect("POST", "/access/directory-services/provisioning", url.Values{"method": {"registration_code"},
		"code_expiry_value": {"2"}, "code_expiry_unit": {"days"}}, http.StatusSeeOther)

	// Creates a user (who gets a code with it, under this method) and generates a second code
	// for them through the Actions menu.
	c.expect("GET", "/access/users/new", nil, http.StatusOK)
	code, _ := c.do("POST", "/access/users", url.Values{"first_name": {"Grace"}, "last_name": {"Hopper"}, "email": {"grace@example.com"}})
	if code != http.StatusSeeOther {
		t.Fatalf("create user: %d", code)
	}
	body := c.expect("GET", "/access/users?q=grace", nil, http.StatusOK)
	m := regexp.MustCompile(`name="ids" value="(\d+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("the new user is not listed")
	}
	id := m[1]
	c.expect("POST", "/access/users/actions", url.Values{"action": {"generate_code"}, "ids": {id}, "confirm": {"1"}}, http.StatusSeeOther)

	// Downloads the codes and hands Grace hers.
	csvBody := c.expect("GET", "/access/directory-services/provisioning/codes.csv", nil, http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(csvBody)).ReadAll()
	if err != nil || len(rows) != 3 || rows[1][2] != "grace@example.com" || rows[2][2] != "grace@example.com" {
		t.Fatalf("codes.csv: %v\n%s", err, csvBody)
	}
	regCode := rows[1][3]

	// Grace's VPN client registers with it; the session is valid.
	var out bytes.Buffer
	if err := run(ctx, []string{"client", "register", "--server", base, "--code", strings.ToLower(regCode), "--device-name", "Grace's laptop"}, env, nil, &out, io.Discard); err != nil {
		t.Fatalf("client register: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"client", "status"}, env, nil, &out, io.Discard); err != nil {
		t.Fatalf("client status: %v\n%s", err, out.String())
	}
	// The code is one-time: a second registration is refused.
	if err := run(ctx, []string{"client", "register", "--server", base, "--code", regCode}, env, nil, io.Discard, io.Discard); err == nil {
		t.Fatal("a used code registered a second device")
	}

	// The laptop is stolen: the admin resets Grace's password, and the device is refused at once.
	c.expect("GET", "/access/users/"+id, nil, http.StatusOK)
	c.expect("POST", "/access/users/actions", url.Values{"action": {"reset_password"}, "ids": {id}, "confirm": {"1"}}, http.StatusSeeOther)
	out.Reset()
	if err := run(ctx, []string{"client", "status"}, env, nil, &out, io.Discard); err == nil {
		t.Fatalf("client status still succeeds after the reset:\n%s", out.String())
	}
	// Nothing active is left to download.
	csvBody = c.expect("GET", "/access/directory-services/provisioning/codes.csv", nil, http.StatusOK)
	if rows, _ := csv.NewReader(strings.NewReader(csvBody)).ReadAll(); len(rows) != 1 {
		t.Fatalf("codes.csv after the reset:\n%s", csvBody)
	}
}
