package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"onramp/models"
	"onramp/models/apitokens"
	"onramp/models/secret"
	"onramp/models/store"
)

// TestTokenCreate: `onramp token create` prints a new API token alone on its line, with the
// scopes and expiry asked for, attributed to the account's admin; bad scopes, a bad expiry and
// an unknown account are errors.
func TestTokenCreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testEnv(t, nil)
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"admin", "create", "--account", "acme", "--email", "ada@example.com"}, env,
		strings.NewReader("violet harbour lantern\n"), &out, &errOut); err != nil {
		t.Fatalf("admin create: %v\n%s", err, errOut.String())
	}
	out.Reset()
	if err := run(ctx, []string{"token", "create", "--account", "acme", "--name", "HR sync", "--scopes", "users:write,users:read", "--expires", "30d"},
		env, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("token create: %v\n%s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], apitokens.Prefix) || strings.ContainsAny(lines[0], " \t") {
		t.Fatalf("stdout is not one token line: %q", out.String())
	}
	s, err := store.Open(ctx, env("DATABASE_URL"), store.Options{SQLitePath: env("ONRAMP_DATA_DIR") + "/onramp.db"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tok, admin, err := apitokens.New(s, secret.NewKeys([]byte("unused: tokens are hashed"))).Authenticate(ctx, lines[0], "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if tok.Name != "HR sync" || tok.Scopes != "users:read users:write" || tok.ExpiresAt == nil || admin.Token == nil || admin.Role != models.RoleAdmin {
		t.Fatalf("token %+v acting as %+v", tok, admin)
	}
	for _, args := range [][]string{
		{"token", "create", "--account", "acme", "--name", "x", "--scopes", "users:read,root"},
		{"token", "create", "--account", "acme", "--name", "x", "--scopes", "users:read", "--expires", "soon"},
		{"token", "create", "--account", "nope", "--name", "x", "--scopes", "users:read"},
		{"token", "create", "--account", "acme", "--name", "x"},
	} {
		out.Reset()
		if err := run(ctx, args, env, strings.NewReader(""), &out, &errOut); err == nil || out.Len() != 0 {
			t.Errorf("%v: err %v, stdout %q", args, err, out.String())
		}
	}
}
