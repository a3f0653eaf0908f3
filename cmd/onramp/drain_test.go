package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestShutdownDrains: from the moment shutdown begins /readyz answers 503 while the server
// still serves, for the drain delay; both probes answer HEAD; probe requests are not logged at
// INFO, other requests are.
func TestShutdownDrains(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	env := testEnv(t, map[string]string{"ONRAMP_ADDR": freeAddr(t), "ONRAMP_DRAIN_DELAY": "4s"})
	base, stop := startServe(t, env, &logs)
	// onramp healthcheck, the image's HEALTHCHECK, asks the same server.
	healthcheck := func(args ...string) error {
		return run(context.Background(), append([]string{"healthcheck"}, args...), env, nil, io.Discard, io.Discard)
	}
	status := func(method, path string) int {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if got := status(http.MethodHead, path); got != http.StatusOK {
			t.Fatalf("HEAD %s: %d", path, got)
		}
	}
	if got := status(http.MethodGet, "/login"); got != http.StatusOK {
		t.Fatalf("GET /login: %d", got)
	}
	if err := healthcheck(); err != nil {
		t.Fatalf("healthcheck: %v", err)
	}
	if err := healthcheck("--ready"); err != nil {
		t.Fatalf("healthcheck --ready: %v", err)
	}

	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	var ready int
	for range 400 {
		if ready = status(http.MethodGet, "/readyz"); ready == http.StatusServiceUnavailable {
			break
		}
	}
	if ready != http.StatusServiceUnavailable {
		t.Fatalf("/readyz still %d after the shutdown began", ready)
	}
	// Still serving: the listener is open during the drain delay.
	if got := status(http.MethodHead, "/readyz"); got != http.StatusServiceUnavailable {
		t.Fatalf("HEAD /readyz while draining: %d", got)
	}
	if got := status(http.MethodGet, "/healthz"); got != http.StatusOK {
		t.Fatalf("GET /healthz while draining: %d", got)
	}
	if err := healthcheck("--ready"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("healthcheck --ready while draining: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if err := healthcheck(); err == nil {
		t.Fatal("healthcheck passes with the server stopped")
	}
	out := logs.String()
	if !strings.Contains(out, "route=/login") || !strings.Contains(out, "/readyz answers 503") {
		t.Fatalf("missing log lines:\n%s", out)
	}
	if strings.Contains(out, "route=/healthz") || strings.Contains(out, "route=/readyz") {
		t.Fatalf("probes logged at INFO:\n%s", out)
	}
}

// TestProbesLoggedAtDebug: ONRAMP_LOG_LEVEL=debug shows the probes' requests.
func TestProbesLoggedAtDebug(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	base, stop := startServe(t, testEnv(t, map[string]string{"ONRAMP_ADDR": freeAddr(t), "ONRAMP_LOG_LEVEL": "debug"}), &logs)
	res, err := http.Head(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "level=DEBUG msg=request") || !strings.Contains(logs.String(), "route=/healthz") {
		t.Fatalf("no probe at DEBUG:\n%s", logs.String())
	}
	if _, err := loadConfig(testEnv(t, map[string]string{"ONRAMP_LOG_LEVEL": "chatty"})); err == nil || !strings.Contains(err.Error(), "ONRAMP_LOG_LEVEL") {
		t.Fatalf("ONRAMP_LOG_LEVEL=chatty: %v", err)
	}
}
