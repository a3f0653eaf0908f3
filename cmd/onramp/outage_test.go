package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"onramp/models/store/storetest"
)

// cable is a TCP path to the real PostgreSQL server that a test can cut (every connection
// closed, new ones refused) and mend, as a network failure or a database restart would.
type cable struct {
	t      *testing.T
	addr   string // where clients connect
	target string // the database server

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
}

func newCable(t *testing.T, target string) *cable {
	t.Helper()
	c := &cable{t: t, target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.addr = ln.Addr().String()
	c.serve(ln)
	t.Cleanup(c.cut)
	return c
}

func (c *cable) serve(ln net.Listener) {
	c.mu.Lock()
	c.ln = ln
	c.mu.Unlock()
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", c.target)
			if err != nil {
				client.Close()
				continue
			}
			c.mu.Lock()
			c.conns[client], c.conns[server] = true, true
			c.mu.Unlock()
			go func() { _, _ = io.Copy(server, client); server.Close() }()
			go func() { _, _ = io.Copy(client, server); client.Close() }()
		}
	}()
}

// cut closes the listener and every connection through it.
func (c *cable) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ln != nil {
		c.ln.Close()
		c.ln = nil
	}
	for conn := range c.conns {
		conn.Close()
	}
	clear(c.conns)
}

// mend listens again on the same address.
func (c *cable) mend() {
	c.t.Helper()
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		c.t.Fatal(err)
	}
	c.serve(ln)
}

// TestDatabaseOutage cuts a running server off its PostgreSQL database: /readyz says 503, the
// client API answers 503 in its JSON shape (not 500), the job queue does not flood the log,
// and once the database is back everything works again on its own.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	if storetest.URL() == "" {
		t.Skip("needs PostgreSQL (TEST_DATABASE_URL): the embedded SQLite database cannot become unreachable")
	}
	env := testEnv(t, map[string]string{"ONRAMP_ADDR": freeAddr(t)})
	u, err := url.Parse(env("DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	cable := newCable(t, u.Host)
	u.Host = cable.addr
	dbURL := u.String()
	env2 := func(k string) string {
		if k == "DATABASE_URL" {
			return dbURL
		}
		return env(k)
	}
	var logs bytes.Buffer
	lw := &syncWriter{w: &logs}
	base, stop := startServe(t, env2, lw)

	register := func() (int, map[string]string) {
		t.Helper()
		res, err := http.Post(base+"/api/v1/client/register", "application/json",
			strings.NewReader(`{"code":"ABCD-EFGH-JKLM-NPQR","device_name":"laptop","platform":"linux"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]string
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatalf("%d: not JSON: %v", res.StatusCode, err)
		}
		return res.StatusCode, body
	}
	ready := func() int {
		t.Helper()
		res, err := http.Get(base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code, body := register(); code != http.StatusUnauthorized || body["error"] != "invalid_code" {
		t.Fatalf("before the outage: %d %v", code, body)
	}

	cable.cut()
	lw.mu.Lock()
	outageStart := logs.Len()
	lw.mu.Unlock()
	if got := ready(); got != http.StatusServiceUnavailable {
		t.Fatalf("/readyz during the outage: %d", got)
	}
	for range 3 {
		code, body := register()
		if code != http.StatusServiceUnavailable || body["error"] != "unavailable" || body["message"] == "" {
			t.Fatalf("register during the outage: %d %v", code, body)
		}
	}
	res, err := http.Get(base + "/setup?token=anything")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(page), "Temporarily unavailable") {
		t.Fatalf("a console page during the outage: %d\n%.500s", res.StatusCode, page)
	}
	// The outage lasts a while: the queue polls every second meanwhile.
	time.Sleep(8 * time.Second)
	lw.mu.Lock()
	during := logs.String()[outageStart:]
	lw.mu.Unlock()

	cable.mend()
	for i := 0; ready() != http.StatusOK; i++ {
		if i == 300 {
			t.Fatal("/readyz does not recover")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, body := register(); code != http.StatusUnauthorized || body["error"] != "invalid_code" {
		t.Fatalf("after the outage: %d %v", code, body)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	var queueLines int
	for line := range strings.Lines(during) {
		if !strings.Contains(line, "msg=request") && (strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN")) {
			queueLines++
		}
	}
	t.Logf("%d lines of the queue in 8 s of outage:\n%s", queueLines, during)
	if queueLines > 16 { // one per message (8 seen); 53 before the throttle
		t.Fatalf("%d error lines in 8 s of outage", queueLines)
	}
}
