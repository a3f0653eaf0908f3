package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// get answers a GET with an optional bearer token: its status and body.
func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// ONRAMP_METRICS_TOKEN serves /metrics on the main listener to requests with the token, and
// ONRAMP_METRICS_ADDR on a listener of its own, which asks for the token too when both are set.
// (Without a token the router has no /metrics: handlers' TestMetricsNeedTheToken.)
func TestServeMetrics(t *testing.T) {
	t.Parallel()
	const token = "a-metrics-token-of-32-characters"
	series := `onramp_http_requests_total{method="GET",route="/readyz",status="200"}`
	metricsAddr := freeAddr(t)
	var logs bytes.Buffer
	base, stop := startServe(t, testEnv(t, map[string]string{"ONRAMP_ADDR": freeAddr(t), "ONRAMP_METRICS_ADDR": metricsAddr,
		"ONRAMP_METRICS_TOKEN": token}), &logs)
	for _, url := range []string{base + "/metrics", "http://" + metricsAddr + "/metrics"} {
		if status, _ := get(t, url, ""); status != http.StatusUnauthorized {
			t.Fatalf("%s without the token: %d, want 401", url, status)
		}
		if status, body := get(t, url, token); status != http.StatusOK || !strings.Contains(body, series) {
			t.Fatalf("%s with the token: %d\n%.2000s", url, status, body)
		}
	}
	// The server's goroutines write the log until it stops.
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), token) {
		t.Fatal("the metrics token was logged")
	}
}

func TestMetricsTokenTooShort(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"serve"}, testEnv(t, map[string]string{"ONRAMP_METRICS_TOKEN": "short"}), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "ONRAMP_METRICS_TOKEN must be at least 16 characters") {
		t.Fatalf("serve with a short token: %v", err)
	}
}
