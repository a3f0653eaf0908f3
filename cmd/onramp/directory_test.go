package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"onramp/models/directory"
	"onramp/models/secret"
	"onramp/models/store"
)

// TestDirectorySCIMToken: `onramp directory scim-token` prints a new token alone on its line,
// creating the SCIM directory the first time and reusing it after; the token authenticates as
// that directory; an unknown account is an error, not a new account.
func TestDirectorySCIMToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testEnv(t, nil)
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"admin", "create", "--account", "Acme", "--email", "ada@example.com"}, env,
		strings.NewReader("violet harbour lantern\n"), &out, &errOut); err != nil {
		t.Fatalf("admin create: %v\n%s", err, errOut.String())
	}
	token := func() string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(ctx, []string{"directory", "scim-token", "--account", "ACME", "--name", "Okta"}, env, strings.NewReader(""), &out, &errOut); err != nil {
			t.Fatalf("scim-token: %v\n%s", err, errOut.String())
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != 1 || len(lines[0]) < 40 || strings.ContainsAny(lines[0], " \t") {
			t.Fatalf("stdout is not one token line: %q", out.String())
		}
		return lines[0]
	}
	a, b := token(), token()
	if a == b {
		t.Fatal("the same token twice")
	}
	s, err := store.Open(ctx, env("DATABASE_URL"), store.Options{SQLitePath: env("ONRAMP_DATA_DIR") + "/onramp.db"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	svc := directory.New(s, nil, secret.NewKeys([]byte("unused: tokens are hashed, not sealed")))
	da, err := svc.Authenticate(ctx, a, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	db, err := svc.Authenticate(ctx, b, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if da.ID != db.ID || da.Name != "Okta" || da.Origin() != "directory:Okta" {
		t.Fatalf("directories %+v %+v", da, db)
	}
	if err := run(ctx, []string{"directory", "scim-token", "--account", "nope", "--name", "Okta"}, env, strings.NewReader(""), &out, &errOut); err == nil {
		t.Fatal("an unknown account got a token")
	}
}
