package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"onramp/models"
	"onramp/models/directory"
	"onramp/models/directory/ldaptest"
	"onramp/models/secret"
	"onramp/models/store"
)

// TestDirectorySync: `onramp directory sync` runs a sync of an LDAP directory (a real slapd)
// in the foreground and prints its counts (exit 0); a sync a safety limit stops exits 3 and
// says why and how to approve; a server that cannot be reached exits 1 with the reason.
func TestDirectorySync(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const key = "directory-sync-test-secret-0123456789abcdef"
	env := testEnv(t, map[string]string{"ONRAMP_SECRET": key})
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"admin", "create", "--account", "acme", "--email", "ada@example.com"}, env,
		strings.NewReader("violet harbour lantern\n"), &out, &errOut); err != nil {
		t.Fatalf("admin create: %v\n%s", err, errOut.String())
	}
	var ldif strings.Builder
	for _, uid := range []string{"ann", "bob", "cid", "dee", "eve"} {
		ldif.WriteString(ldaptest.Person(uid, "Person", "Tester", uid+"@example.test"))
	}
	slapd := ldaptest.StartSlapd(t, ldif.String())
	s, err := store.Open(ctx, env("DATABASE_URL"), store.Options{SQLitePath: env("ONRAMP_DATA_DIR") + "/onramp.db"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	account, err := s.AccountByName(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	// The manager's bind is not held to the reader's three entries a search.
	in := directory.NewLDAPInput("openldap")
	in.Name, in.URL, in.BindDN, in.Password, in.BaseDN = "Corp", slapd.URL, ldaptest.ManagerDN, ldaptest.Password, ldaptest.PeopleDN
	in.LimitCount = 1
	d, err := directory.New(s, nil, secret.NewKeys([]byte(key))).CreateLDAPDirectoryIn(ctx, account.Name,
		models.Actor{Type: models.ActorSystem, Label: "test"}, in)
	if err != nil {
		t.Fatal(err)
	}
	sync := func() (string, string, int) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(ctx, []string{"directory", "sync", "--account", "ACME", "--name", "Corp"}, env, strings.NewReader(""), &out, &errOut)
		if err != nil {
			fmt.Fprintln(&errOut, err)
		}
		return out.String(), errOut.String(), exitCode(err)
	}

	stdout, stderr, code := sync()
	if code != 0 || !strings.Contains(stdout, ": done\nread 5 users: 5 created, 0 updated, 0 disabled, 0 deleted, 0 unchanged, 0 skipped\n") {
		t.Fatalf("first sync: exit %d\n%s%s", code, stdout, stderr)
	}

	conn, err := goldap.DialURL(slapd.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Bind(ldaptest.ManagerDN, ldaptest.Password); err != nil {
		t.Fatal(err)
	}
	for _, uid := range []string{"dee", "eve"} {
		if err := conn.Del(goldap.NewDelRequest("uid="+uid+","+ldaptest.PeopleDN, nil)); err != nil {
			t.Fatal(err)
		}
	}
	stdout, stderr, code = sync()
	if code != exitSyncBlocked || !strings.Contains(stdout, ": blocked\n") ||
		!strings.Contains(stderr, "would disable 0 and delete 2 users (2 in all), over the limit of 1 users") || !strings.Contains(stderr, "approve") {
		t.Fatalf("over the limit: exit %d\n%s%s", code, stdout, stderr)
	}

	l, err := s.LDAPSettings(ctx, account.ID, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	l.URL = "ldap://127.0.0.1:1"
	if err := s.SaveLDAPSettings(ctx, l); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = sync()
	if code != 1 || !strings.Contains(stdout, ": failed\n") || !strings.Contains(stderr, "cannot be reached") {
		t.Fatalf("unreachable: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, stderr, code := func() (string, string, int) {
		var out, errOut bytes.Buffer
		err := run(ctx, []string{"directory", "sync", "--account", "acme", "--name", "Nope"}, env, strings.NewReader(""), &out, &errOut)
		return out.String(), fmt.Sprint(err), exitCode(err)
	}(); code != 1 || !strings.Contains(stderr, `no account "acme" with a directory "Nope"`) {
		t.Fatalf("unknown directory: exit %d: %s", code, stderr)
	}
}
