package main

import (
	"bytes"
	"context"
	"errors"
	"io"
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
