package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"onramp/models/store"
	"onramp/models/store/storetest"
)

// signedIn is a console client signed in as the admin.
func signedIn(t *testing.T, base, email, password string) *console {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &console{t: t, base: base, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	c.expect("GET", "/login", nil, http.StatusOK)
	c.expect("POST", "/login", url.Values{"email": {email}, "password": {password}}, http.StatusSeeOther)
	return c
}

// TestBackupWhileWriting copies the SQLite database while an admin keeps creating users, and
// starts a fresh server on the copy: it serves, the admin signs in, and it holds every user
// created before the backup began (and none half-made: the file passes SQLite's integrity
// check). On PostgreSQL the command points to pg_dump and exits 2.
func TestBackupWhileWriting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testEnv(t, map[string]string{"ONRAMP_ADDR": freeAddr(t)})
	target := filepath.Join(t.TempDir(), "onramp-backup.db")
	if storetest.URL() != "" {
		var stdout bytes.Buffer
		err := run(ctx, []string{"backup", target}, env, nil, &stdout, io.Discard)
		var coded interface{ ExitCode() int }
		if !errors.As(err, &coded) || coded.ExitCode() != 2 || !strings.Contains(err.Error(), "pg_dump") {
			t.Fatalf("backup on PostgreSQL: %v, want exit 2 pointing to pg_dump", err)
		}
		if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("a file was written: %v", err)
		}
		return
	}
	const password = "violet harbour lantern"
	if err := run(ctx, []string{"admin", "create", "--account", "acme", "--email", "boss@example.com", "--role", "admin"}, env,
		strings.NewReader(password+"\n"), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	base, stop := startServe(t, env, io.Discard)

	// The admin creates users one after another until told to stop.
	var created atomic.Int64
	halt, writerDone := make(chan struct{}), make(chan error, 1)
	go func() {
		c := signedIn(t, base, "boss@example.com", password)
		c.expect("GET", "/access/users/new", nil, http.StatusOK)
		for i := 1; ; i++ {
			select {
			case <-halt:
				writerDone <- nil
				return
			default:
			}
			code, body := c.do("POST", "/access/users", url.Values{"first_name": {"User"}, "last_name": {fmt.Sprint(i)},
				"email": {fmt.Sprintf("user%d@example.com", i)}})
			if code != http.StatusSeeOther {
				writerDone <- fmt.Errorf("create user %d: %d %.300s", i, code, body)
				return
			}
			created.Add(1)
		}
	}()
	for created.Load() < 3 {
		select {
		case err := <-writerDone:
			t.Fatal(err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	before := created.Load()
	var out bytes.Buffer
	if err := run(ctx, []string{"backup", target}, env, nil, &out, io.Discard); err != nil {
		t.Fatalf("backup: %v", err)
	}
	after := created.Load()
	close(halt)
	if err := <-writerDone; err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Backed up SQLite file") || !strings.Contains(out.String(), target) {
		t.Fatalf("output: %s", out.String())
	}
	if info, err := os.Stat(target); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", info, err)
	}
	if err := run(ctx, []string{"backup", target}, env, nil, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("a second backup to the same file: %v", err)
	}

	// Restore: the copy becomes the database of a fresh server (with the same secret).
	dir := t.TempDir()
	copyFile(t, target, filepath.Join(dir, "onramp.db"))
	copyFile(t, filepath.Join(env("ONRAMP_DATA_DIR"), "secret.key"), filepath.Join(dir, "secret.key"))
	restored := testEnv(t, map[string]string{"ONRAMP_ADDR": freeAddr(t), "ONRAMP_DATA_DIR": dir})
	base, _ = startServe(t, restored, io.Discard)
	c := signedIn(t, base, "boss@example.com", password)
	if body := c.expect("GET", "/access/users?q=user1%40example.com", nil, http.StatusOK); !strings.Contains(body, "user1@example.com") {
		t.Fatal("the first user is not in the restored database")
	}
	o, err := open(ctx, restored, io.Discard, false)
	if err != nil {
		t.Fatal(err)
	}
	defer o.store.Close()
	a, err := o.store.AccountByName(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	n, err := o.store.CountUsers(ctx, a.ID, store.UserFilter{})
	if err != nil || n < before || n > after {
		t.Fatalf("%d users in the backup (%v), want from %d (created before it began) to %d", n, err, before, after)
	}
	var check string
	if err := o.store.SQLDB().QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity check: %q %v", check, err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
