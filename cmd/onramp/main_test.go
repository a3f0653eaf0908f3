package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"onramp/models/store"
	"onramp/models/store/storetest"
)

func testEnv(t *testing.T, extra map[string]string) func(string) string {
	t.Helper()
	dbURL, err := storetest.Database(t)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": dbURL, "ONRAMP_DATA_DIR": t.TempDir()}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

func TestAdminCreateAndMigrateStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testEnv(t, nil)
	var out, errOut bytes.Buffer
	err := run(ctx, []string{"admin", "create", "--account", "Acme", "--email", "Ada@Example.com", "--role", "admin"}, env,
		strings.NewReader("violet harbour lantern\n"), &out, &errOut)
	if err != nil {
		t.Fatalf("admin create: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), `Created account "acme"`) && !strings.Contains(out.String(), `Created account "Acme"`) {
		t.Fatalf("output: %s", out.String())
	}
	if strings.Contains(out.String()+errOut.String(), "violet") {
		t.Fatal("the password was printed")
	}
	out.Reset()
	err = run(ctx, []string{"admin", "create", "--account", "acme", "--email", "hal@example.com", "--role", "helpdesk"}, env,
		strings.NewReader("violet harbour lantern\n"), &out, &errOut)
	if err != nil || strings.Contains(out.String(), "Created account") {
		t.Fatalf("second admin: %v %s", err, out.String())
	}
	// An email is unique in its account only: the other account's admin is another row.
	out.Reset()
	err = run(ctx, []string{"admin", "create", "--account", "globex", "--email", "ada@example.com"}, env,
		strings.NewReader("amber meadow compass\n"), &out, &errOut)
	if err != nil || !strings.Contains(out.String(), `Created account "globex"`) {
		t.Fatalf("ada in a second account: %v %s", err, out.String())
	}
	err = run(ctx, []string{"admin", "create", "--account", "acme", "--email", "ada@example.com"}, env,
		strings.NewReader("violet harbour lantern\n"), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "already exists in this account") {
		t.Fatalf("ada twice in acme: %v", err)
	}
	for _, bad := range []struct {
		args  []string
		stdin string
	}{
		{[]string{"admin", "create", "--account", "acme", "--email", "new@example.com", "--role", "root"}, "violet harbour lantern\n"},
		{[]string{"admin", "create", "--account", "acme", "--email", "new@example.com"}, "short\n"},
		{[]string{"admin", "create", "--account", "acme", "--email", "new@example.com"}, ""},
	} {
		if err := run(ctx, bad.args, env, strings.NewReader(bad.stdin), &out, &errOut); err == nil {
			t.Errorf("%v with %q succeeded", bad.args, bad.stdin)
		}
	}
	out.Reset()
	if err := run(ctx, []string{"migrate", "status"}, env, nil, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "00001_foundation.sql") || !strings.Contains(out.String(), "00011_admin_email_per_account") ||
		!strings.Contains(out.String(), "applied") {
		t.Fatalf("migrate status:\n%s", out.String())
	}
}

// TestAdminCreateRefusesGuessablePasswords: the command line judges passwords as the forms do,
// against the new admin's email and name too, and says why it refuses one.
func TestAdminCreateRefusesGuessablePasswords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testEnv(t, nil)
	args := []string{"admin", "create", "--account", "acme", "--email", "ada@example.com"}
	for _, pw := range []string{"ada@example.com2024", "P@ssw0rd2024!"} {
		var out, errOut bytes.Buffer
		err := run(ctx, args, env, strings.NewReader(pw+"\n"), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "This password is too easy to guess: ") {
			t.Fatalf("admin create with %q: %v, want it refused as too easy to guess", pw, err)
		}
	}
	var out, errOut bytes.Buffer
	if err := run(ctx, args, env, strings.NewReader("copper meadow whistle\n"), &out, &errOut); err != nil {
		t.Fatalf("admin create with a strong password: %v", err)
	}
}

// freeAddr is a local address for a server a test starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs `serve` with env (its ONRAMP_ADDR from freeAddr), logging to logs, and returns
// its base URL once /readyz answers 200. stop cancels it and returns what serve returned; the
// test's cleanup stops it too.
func startServe(t *testing.T, env func(string) string, logs io.Writer) (base string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, env, nil, io.Discard, &syncWriter{w: logs}) }()
	var once sync.Once
	var served error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case served = <-done:
			case <-time.After(10 * time.Second):
				served = errors.New("serve did not stop")
			}
		})
		return served
	}
	t.Cleanup(func() { _ = stop() })
	base = "http://" + env("ONRAMP_ADDR")
	// Wait for the listener (bounded: a loaded CI machine may take seconds to start it).
	var res *http.Response
	var err error
	for i := 0; i < 600; i++ {
		if res, err = http.Get(base + "/readyz"); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("readyz %d", res.StatusCode)
	}
	return base, stop
}

func TestServeShutsDownGracefully(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	_, stop := startServe(t, testEnv(t, map[string]string{"ONRAMP_ADDR": freeAddr(t)}), &logs)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "/setup?token=") {
		t.Fatalf("no setup link logged:\n%s", logs.String())
	}
}

// TestErrorDetailsOnlyWithDebug breaks the database under a running server: the 500 page an
// anonymous visitor gets names no table by default (development included), and shows the
// database's error only with ONRAMP_DEBUG.
func TestErrorDetailsOnlyWithDebug(t *testing.T) {
	t.Parallel()
	for _, debug := range []bool{false, true} {
		t.Run(fmt.Sprint("debug=", debug), func(t *testing.T) {
			t.Parallel()
			extra := map[string]string{"ONRAMP_ADDR": freeAddr(t)}
			if debug {
				extra["ONRAMP_DEBUG"] = "true"
			}
			env := testEnv(t, extra)
			base, _ := startServe(t, env, io.Discard)
			o, err := open(context.Background(), env, io.Discard, false)
			if err != nil {
				t.Fatal(err)
			}
			defer o.store.Close()
			if _, err := o.store.SQLDB().Exec("ALTER TABLE admins RENAME TO admins_gone"); err != nil {
				t.Fatal(err)
			}
			res, err := http.Get(base + "/setup?token=anything")
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			body := string(b)
			if res.StatusCode != http.StatusInternalServerError {
				t.Fatalf("status %d\n%s", res.StatusCode, body)
			}
			if shown := strings.Contains(body, "admins"); shown != debug {
				t.Fatalf("the database error shown: %v, want %v\n%s", shown, debug, body)
			}
			if !debug && !strings.Contains(body, "The error was logged") {
				t.Fatalf("no generic message:\n%s", body)
			}
		})
	}
	if _, err := loadConfig(testEnv(t, map[string]string{"ONRAMP_DEBUG": "sometimes"})); err == nil || !strings.Contains(err.Error(), "ONRAMP_DEBUG") {
		t.Fatalf("ONRAMP_DEBUG=sometimes: %v", err)
	}
}

func TestProductionNeedsSecret(t *testing.T) {
	t.Parallel()
	env := testEnv(t, map[string]string{"ONRAMP_ENV": "production"})
	if _, err := loadConfig(env); err == nil || !strings.Contains(err.Error(), "ONRAMP_SECRET") {
		t.Fatalf("production without a secret: %v", err)
	}
	env = testEnv(t, map[string]string{"ONRAMP_SECRET": "too-short"})
	if _, err := loadConfig(env); err == nil {
		t.Fatal("a short secret was accepted")
	}
	env = testEnv(t, nil)
	c1, err := loadConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := loadConfig(env)
	if string(c1.Secret) != string(c2.Secret) || len(c1.Secret) < 32 {
		t.Fatal("the development key is not kept")
	}
}

func TestDemoFillsAnAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testEnv(t, nil)
	var out bytes.Buffer
	if err := run(ctx, []string{"demo", "--account", "demo", "--users", "1200"}, env, nil, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"demo", "--account", "demo", "--users", "300"}, env, nil, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `Added 300 demo users to account "demo"`) {
		t.Fatalf("output: %s", out.String())
	}
	// Without an admin it says how to make one; with one, whom to sign in as, and where.
	if !strings.Contains(out.String(), "onramp admin create --account demo --email") {
		t.Fatalf("the demo does not say how to sign in to it:\n%s", out.String())
	}
	if err := run(ctx, []string{"admin", "create", "--account", "demo", "--email", "ada@demo.example"}, env,
		strings.NewReader("violet harbour lantern\n"), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"demo", "--account", "demo", "--users", "10"}, env, nil, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"http://localhost:8080/login", "account demo", "ada@demo.example", "codes", "devices", "events", "emails"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	if err := run(ctx, []string{"demo", "--account", "demo", "--users", "0"}, env, nil, &out, &bytes.Buffer{}); err == nil {
		t.Fatal("--users 0 accepted")
	}
	o, err := open(ctx, env, io.Discard, false)
	if err != nil {
		t.Fatal(err)
	}
	s := o.store
	defer s.Close()
	a, err := s.AccountByName(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.CountUsers(ctx, a.ID, store.UserFilter{})
	if err != nil || n != 1510 {
		t.Fatalf("%d users (%v)", n, err)
	}
	mfa, _ := s.CountUsers(ctx, a.ID, store.UserFilter{MFA: "yes"})
	disabled, _ := s.CountUsers(ctx, a.ID, store.UserFilter{Status: "disabled"})
	if mfa == 0 || disabled == 0 || mfa > 600 || disabled > 400 {
		t.Fatalf("unrealistic mix: %d with MFA, %d disabled", mfa, disabled)
	}
}

func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(testEnv(t, nil))
	if err != nil || c.SessionIdle != 30*time.Minute || c.SessionMax != 12*time.Hour || c.PortalIdle != 30*time.Minute || c.PortalMax != 12*time.Hour {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	c, err = loadConfig(testEnv(t, map[string]string{"ONRAMP_SESSION_IDLE": "10m", "ONRAMP_PORTAL_SESSION_IDLE": "5m", "ONRAMP_PORTAL_SESSION_MAX": "2h"}))
	if err != nil || c.SessionIdle != 10*time.Minute || c.PortalIdle != 5*time.Minute || c.PortalMax != 2*time.Hour {
		t.Fatalf("set: %v %v %v %v", c.SessionIdle, c.PortalIdle, c.PortalMax, err)
	}
	for _, bad := range []string{"soon", "-5m", "0s"} {
		if _, err := loadConfig(testEnv(t, map[string]string{"ONRAMP_PORTAL_SESSION_MAX": bad})); err == nil || !strings.Contains(err.Error(), "ONRAMP_PORTAL_SESSION_MAX") {
			t.Fatalf("%q: %v", bad, err)
		}
	}
}
