package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onramp/models/services"
)

// An instance started with another ONRAMP_SECRET on the same database refuses to start, and
// says which variable is wrong; the right secret still starts.
func TestWrongSecretRefusesToStart(t *testing.T) {
	t.Parallel()
	env := testEnv(t, map[string]string{"ONRAMP_ADDR": freeAddr(t), "ONRAMP_SECRET": strings.Repeat("a", 40)})
	_, stop := startServe(t, env, io.Discard)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	wrong := func(k string) string {
		if k == "ONRAMP_SECRET" {
			return strings.Repeat("b", 40)
		}
		return env(k)
	}
	var logs bytes.Buffer
	err := run(context.Background(), []string{"serve"}, wrong, nil, io.Discard, &logs)
	if !errors.Is(err, services.ErrWrongSecret) || !strings.Contains(err.Error(), "ONRAMP_SECRET") {
		t.Fatalf("serve with another secret: %v", err)
	}
	if strings.Contains(logs.String(), "listening") {
		t.Fatalf("it listened:\n%s", logs.String())
	}
	err = run(context.Background(), []string{"directory", "scim-token", "--account", "acme", "--name", "okta"}, wrong, nil, io.Discard, io.Discard)
	if !errors.Is(err, services.ErrWrongSecret) {
		t.Fatalf("a command with another secret: %v", err)
	}
	_, stop = startServe(t, env, io.Discard)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// A rotation from the command line: the previous secret beside the new one (here from a file)
// starts and says the data is not resealed yet, a wrong previous one is refused naming both
// variables, `secret reseal` prints its counts per kind (none the second time), and the new
// secret then starts alone.
func TestRotateSecretCommands(t *testing.T) {
	t.Parallel()
	oldSecret, newSecret := strings.Repeat("o", 40), strings.Repeat("n", 40)
	env := testEnv(t, map[string]string{"ONRAMP_ADDR": freeAddr(t), "ONRAMP_SECRET": oldSecret})
	_, stop := startServe(t, env, io.Discard)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	previousFile := filepath.Join(t.TempDir(), "previous")
	if err := os.WriteFile(previousFile, []byte(oldSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	with := func(vars map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := vars[k]; ok {
				return v
			}
			return env(k)
		}
	}
	rotating := with(map[string]string{"ONRAMP_SECRET": newSecret, "ONRAMP_SECRET_PREVIOUS_FILE": previousFile})
	var logs bytes.Buffer
	_, stop = startServe(t, rotating, &logs)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "onramp secret reseal") {
		t.Fatalf("no word of the reseal to run:\n%s", logs.String())
	}
	wrong := with(map[string]string{"ONRAMP_SECRET": newSecret, "ONRAMP_SECRET_PREVIOUS": strings.Repeat("w", 40)})
	err := run(context.Background(), []string{"serve"}, wrong, nil, io.Discard, io.Discard)
	if !errors.Is(err, services.ErrWrongSecret) || !strings.Contains(err.Error(), "ONRAMP_SECRET_PREVIOUS") {
		t.Fatalf("serve with a wrong previous secret: %v", err)
	}
	for i := range 2 {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"secret", "reseal"}, rotating, nil, &out, io.Discard); err != nil {
			t.Fatalf("reseal %d: %v", i, err)
		}
		for _, want := range []string{"registration codes", "admin TOTP keys", "user TOTP keys", "LDAP bind passwords",
			"SSO client secrets", "webhook secrets", "ONRAMP_SECRET_PREVIOUS can be removed"} {
			if !strings.Contains(out.String(), want) {
				t.Fatalf("reseal %d printed no %q:\n%s", i, want, out.String())
			}
		}
	}
	err = run(context.Background(), []string{"serve"}, with(map[string]string{"ONRAMP_SECRET": oldSecret}), nil, io.Discard, io.Discard)
	if !errors.Is(err, services.ErrWrongSecret) {
		t.Fatalf("serve with the old secret after the reseal: %v", err)
	}
	_, stop = startServe(t, with(map[string]string{"ONRAMP_SECRET": newSecret}), io.Discard)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
