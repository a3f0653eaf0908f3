package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"onramp/models/secret"
	"onramp/models/sso"
	"onramp/models/sso/ssotest"
	"onramp/models/store"
)

// TestSSOSet: `onramp sso set` reads the secret from stdin, checks discovery, saves the
// provider sealed and turns single sign-on on; a wrong issuer or an unknown account is an error.
func TestSSOSet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	op := ssotest.StartProvider(t)
	env := testEnv(t, map[string]string{"ONRAMP_BASE_URL": "https://vpn.example.com"})
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"admin", "create", "--account", "acme", "--email", "ada@example.com"}, env,
		strings.NewReader("violet harbour lantern\n"), &out, &errOut); err != nil {
		t.Fatalf("admin create: %v\n%s", err, errOut.String())
	}
	out.Reset()
	if err := run(ctx, []string{"sso", "set", "--account", "ACME", "--issuer", op.Issuer, "--client-id", op.ClientID, "--create-users"}, env,
		strings.NewReader(op.ClientSecret+"\n"), &out, &errOut); err != nil {
		t.Fatalf("sso set: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "https://vpn.example.com/sso/callback") || !strings.Contains(out.String(), "PKCE S256: yes") ||
		strings.Contains(out.String()+errOut.String(), op.ClientSecret) {
		t.Fatalf("output: %q", out.String())
	}
	s, err := store.Open(ctx, env("DATABASE_URL"), store.Options{SQLitePath: env("ONRAMP_DATA_DIR") + "/onramp.db"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, err := s.AccountByName(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	row, err := s.SSOSettings(ctx, a.ID)
	if err != nil || !a.SSOEnabled || !row.CreateUsers || row.ClientID != op.ClientID || strings.Contains(row.SecretSealed, op.ClientSecret) {
		t.Fatalf("saved: %+v %+v %v", a, row, err)
	}
	// The provider shows on MyVPN's sign-in.
	if label, err := sso.New(s, secret.NewKeys([]byte("x")), sso.Config{}).ProviderLabel(ctx, "acme"); err != nil || label == "" {
		t.Fatalf("label %q %v", label, err)
	}
	for _, args := range [][]string{
		{"sso", "set", "--account", "nope", "--issuer", op.Issuer, "--client-id", "x"},
		{"sso", "set", "--account", "acme", "--issuer", "http://127.0.0.1:1", "--client-id", "x"},
		{"sso", "set", "--account", "acme", "--issuer", "ftp://example.com", "--client-id", "x"},
		{"sso", "set", "--account", "acme", "--client-id", "x"},
	} {
		if err := run(ctx, args, env, strings.NewReader("secret\n"), &out, &errOut); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
