package loadgen_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"onramp/internal/loadgen"
)

// TestHTTPKeepsConnectionsAlive: every request is sent once, with its body, and the clients
// reuse their connections instead of opening one per request, each from its own address.
func TestHTTPKeepsConnectionsAlive(t *testing.T) {
	t.Parallel()
	var conns atomic.Int64
	var mu sync.Mutex
	seen, from := map[string]int{}, map[string]bool{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 16)
		n, _ := r.Body.Read(b)
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		mu.Lock()
		seen[string(b[:n])]++
		from[host] = true
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	const clients, n = 4, 200
	reqs := make([]loadgen.Request, n)
	for i := range reqs {
		reqs[i] = loadgen.Request{Method: http.MethodPost, URL: srv.URL, Body: []byte{byte('a' + i%26), byte('a' + i/26)}, Want: http.StatusCreated}
	}
	res, err := loadgen.HTTP(context.Background(), loadgen.Client(clients, loadgen.Loopback(clients)...), clients, reqs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Latencies) != n || res.PerOp() <= 0 || res.Percentile(0.99) < res.Percentile(0.5) {
		t.Fatalf("%d latencies, %s per op, p50 %s, p99 %s", len(res.Latencies), res.PerOp(), res.Percentile(0.5), res.Percentile(0.99))
	}
	if len(seen) != n {
		t.Fatalf("%d distinct bodies reached the server, want %d", len(seen), n)
	}
	if c := conns.Load(); c > clients {
		t.Fatalf("%d connections for %d clients: not kept alive", c, clients)
	}
	if len(from) != int(conns.Load()) {
		t.Fatalf("%d connections came from %d addresses (%v), want one each", conns.Load(), len(from), from)
	}
}

// TestHTTPStopsAtAWrongStatus: a response other than the one wanted fails the run and says what
// the server answered.
func TestHTTPStopsAtAWrongStatus(t *testing.T) {
	t.Parallel()
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if served.Add(1) == 10 {
			http.Error(w, "code_used", http.StatusGone)
			return
		}
	}))
	defer srv.Close()
	reqs := make([]loadgen.Request, 1000)
	for i := range reqs {
		reqs[i] = loadgen.Request{Method: http.MethodGet, URL: srv.URL, Want: http.StatusOK}
	}
	_, err := loadgen.HTTP(context.Background(), loadgen.Client(2), 2, reqs)
	if err == nil || !strings.Contains(err.Error(), "410") || !strings.Contains(err.Error(), "code_used") {
		t.Fatalf("error %v, want the 410 and its body", err)
	}
	if n := served.Load(); n > 20 {
		t.Fatalf("%d requests served after the failure at the 10th", n)
	}
}
