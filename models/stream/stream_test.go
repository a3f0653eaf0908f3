package stream_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	syslog "github.com/leodido/go-syslog/v4"
	"github.com/leodido/go-syslog/v4/octetcounting"
	"github.com/leodido/go-syslog/v4/rfc5424"

	"onramp/models"
	"onramp/models/jobs"
	"onramp/models/secret"
	"onramp/models/store"
	"onramp/models/store/storetest"
	"onramp/models/stream"
)

type fixture struct {
	t       *testing.T
	st      *store.Store
	svc     *stream.Service
	account *models.Account
	log     *syncBuffer
}

var admin = models.Actor{Type: models.ActorAdmin, Label: "ada@example.com", IP: "192.0.2.1"}

// setup builds the service over a fresh database with River running (retries after 20 ms).
func setup(t *testing.T, cfg stream.Config) *fixture {
	t.Helper()
	ctx := context.Background()
	s := storetest.Open(t)
	log := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	j, err := jobs.New(s, jobs.Config{PollInterval: 20 * time.Millisecond, RetryDelay: 20 * time.Millisecond, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	cfg.AllowLoopback, cfg.RetryDelay, cfg.Logger = true, 20*time.Millisecond, logger
	svc := stream.New(s, secret.NewKeys([]byte("test-secret-test-secret-test-secret!")), j, cfg)
	a := models.NewAccount("acme")
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := j.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := j.Stop(ctx); err != nil {
			t.Errorf("stopping the jobs: %v", err)
		}
	})
	return &fixture{t: t, st: s, svc: svc, account: a, log: log}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (f *fixture) create(in stream.Input) stream.Created {
	f.t.Helper()
	c, err := f.svc.Create(context.Background(), f.account.ID, admin, in)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// event writes an event of the account (outside a transaction) and returns its id.
func (f *fixture) event(t models.EventType, sub, email string) int64 {
	f.t.Helper()
	e := models.NewEvent(&f.account.ID, t, sub, models.Actor{Type: models.ActorSystem}, email, map[string]string{"n": email})
	if err := f.st.CreateEvent(context.Background(), e); err != nil {
		f.t.Fatal(err)
	}
	return e.ID
}

// drained waits until a destination has no delivery left to make and returns it with its log.
func (f *fixture) drained(id int64) (stream.Destination, []models.StreamAttempt) {
	f.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		d, log, err := f.svc.Get(context.Background(), f.account.ID, id)
		if err != nil {
			f.t.Fatal(err)
		}
		if d.Pending == 0 && d.LastDeliveredAt != nil {
			return d, log
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("destination %d still has %d deliveries to make", id, d.Pending)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// receiver is a webhook receiver: it verifies every request's signature, answers 500 to the
// first failFirst requests, and records the events it accepted.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret string

	mu        sync.Mutex
	failFirst int
	failed    int
	accepted  []int64 // event ids in the order accepted, duplicates included
	bodies    map[int64]stream.Payload
	badSigs   int
	arrived   chan struct{}
}

func newReceiver(t *testing.T, failFirst int) *receiver {
	r := &receiver{t: t, failFirst: failFirst, bodies: map[int64]stream.Payload{}, arrived: make(chan struct{}, 1)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := stream.Verify(r.secret, req.Header.Get(stream.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
		r.badSigs++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if r.failed < r.failFirst {
		r.failed++
		http.Error(w, "receiver down for maintenance", http.StatusInternalServerError)
		return
	}
	var p stream.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if got := req.Header.Get(stream.HeaderEventID); got != strconv.FormatInt(p.ID, 10) && !p.Test {
		http.Error(w, "event id header "+got, http.StatusBadRequest)
		return
	}
	r.accepted = append(r.accepted, p.ID)
	r.bodies[p.ID] = p
	select {
	case r.arrived <- struct{}{}:
	default:
	}
	_, _ = io.WriteString(w, `{"ok":true}`)
}

// waitFor waits until the receiver accepted every id (a minute at most: a stuck delivery fails)
// and returns those it accepted among ids, in order, duplicates included (a destination also
// receives the event of its own creation, and others).
func (r *receiver) waitFor(ids []int64) []int64 {
	r.t.Helper()
	deadline := time.After(time.Minute)
	for {
		r.mu.Lock()
		got := slices.Clone(r.accepted)
		r.mu.Unlock()
		missing := 0
		for _, id := range ids {
			if !slices.Contains(got, id) {
				missing++
			}
		}
		if missing == 0 {
			var mine []int64
			for _, id := range got {
				if slices.Contains(ids, id) {
					mine = append(mine, id)
				}
			}
			return mine
		}
		select {
		case <-r.arrived:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			r.t.Fatalf("%d of %d events never arrived; got %v", missing, len(ids), got)
		}
	}
}

func TestWebhookRetriesThenDeliversEveryEventOnceInOrder(t *testing.T) {
	f := setup(t, stream.Config{})
	r := newReceiver(t, 2)
	c := f.create(stream.Input{Kind: models.StreamWebhook, Name: "SIEM", URL: r.srv.URL + "/hook"})
	r.mu.Lock()
	r.secret = c.Secret
	r.mu.Unlock()
	if !strings.HasPrefix(c.Secret, "whsec_") || c.Destination.SecretSealed == "" || strings.Contains(c.Destination.SecretSealed, c.Secret) {
		t.Fatalf("secret %q sealed %q", c.Secret, c.Destination.SecretSealed)
	}
	var ids []int64
	for i := range 20 {
		ids = append(ids, f.event(models.EventUser, models.SubUserCreated, fmt.Sprintf("u%d@example.com", i)))
	}
	// And some in one transaction with other work, as services write them.
	err := f.st.Tx(context.Background(), func(tx *store.Store) error {
		es := make([]*models.Event, 10)
		for i := range es {
			es[i] = models.NewEvent(&f.account.ID, models.EventCode, models.SubCodeGenerated, admin, fmt.Sprintf("c%d@example.com", i), nil)
		}
		if err := tx.CreateEvents(context.Background(), es); err != nil {
			return err
		}
		for _, e := range es {
			ids = append(ids, e.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := r.waitFor(ids)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failed != 2 || r.badSigs != 0 {
		t.Fatalf("receiver answered 500 %d times (want 2), %d bad signatures", r.failed, r.badSigs)
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("accepted %v\nwant each once, in order: %v", got, ids)
	}
	p := r.bodies[ids[0]]
	if p.Account != "acme" || p.Type != "User" || p.SubType != "Created" || p.Email != "u0@example.com" || string(p.Details) != `{"n":"u0@example.com"}` {
		t.Fatalf("payload %+v", p)
	}
	d, log := f.drained(c.Destination.ID)
	if d.LastDeliveredAt == nil || d.LastError != "" {
		t.Fatalf("destination %+v", d)
	}
	var fails int
	for _, a := range log {
		if !a.OK {
			fails++
			if a.Status != 500 || a.Excerpt != "receiver down for maintenance" {
				t.Fatalf("failed attempt %+v", a)
			}
		}
	}
	if fails != 2 {
		t.Fatalf("the log has %d failed attempts, want 2: %+v", fails, log)
	}
	if strings.Contains(f.log.String(), c.Secret) {
		t.Fatal("the signing secret is in the log")
	}
	evs, err := f.st.RecentEvents(context.Background(), f.account.ID, 500)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if strings.Contains(e.Details, c.Secret) {
			t.Fatalf("the signing secret is in event %d", e.ID)
		}
	}
}

func TestConcurrentWritersAreDeliveredInTheirOrder(t *testing.T) {
	f := setup(t, stream.Config{})
	r := newReceiver(t, 0)
	r.secret = f.create(stream.Input{Kind: models.StreamWebhook, Name: "SIEM", URL: r.srv.URL}).Secret
	const writers, each = 6, 15
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ids []int64
	)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e := models.NewEvent(&f.account.ID, models.EventDevice, models.SubDeviceRegistered, models.Actor{Type: models.ActorClient},
					fmt.Sprintf("w%d-%03d@example.com", w, i), nil)
				err := f.st.Tx(context.Background(), func(tx *store.Store) error { return tx.CreateEvent(context.Background(), e) })
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				ids = append(ids, e.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	got := r.waitFor(ids)
	if len(got) != writers*each {
		t.Fatalf("accepted %d deliveries for %d events", len(got), writers*each)
	}
	// Each writer's events (one transaction after the other) arrive in the order it wrote them.
	last := map[string]string{}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range got {
		email := r.bodies[id].Email
		w := email[:strings.Index(email, "-")]
		if email <= last[w] {
			t.Fatalf("%s arrived after %s", email, last[w])
		}
		last[w] = email
	}
}

// On PostgreSQL a transaction can commit a later delivery while an earlier one is still open:
// the later one must wait, so that the earlier one is not delivered behind it.
func TestCommitOrderGapIsWaitedFor(t *testing.T) {
	if storetest.URL() == "" {
		t.Skip("SQLite runs one writer at a time: its ids are in commit order, there is no gap to wait for")
	}
	f := setup(t, stream.Config{})
	r := newReceiver(t, 0)
	c := f.create(stream.Input{Kind: models.StreamWebhook, Name: "SIEM", URL: r.srv.URL})
	r.secret = c.Secret
	ctx := context.Background()
	inFirst, release, firstDone := make(chan int64), make(chan struct{}), make(chan error)
	go func() {
		firstDone <- f.st.Tx(ctx, func(tx *store.Store) error {
			e := models.NewEvent(&f.account.ID, models.EventUser, models.SubUserCreated, admin, "first@example.com", nil)
			if err := tx.CreateEvent(ctx, e); err != nil {
				return err
			}
			inFirst <- e.ID
			<-release
			return nil
		})
	}()
	first := <-inFirst
	second := f.event(models.EventUser, models.SubUserCreated, "second@example.com")
	pending, err := f.st.PendingDeliveries(ctx, c.Destination.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pending {
		if p.ID == second {
			t.Fatalf("delivery of event %d offered while the transaction of event %d, before it, is open", second, first)
		}
	}
	close(release)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	if got := r.waitFor([]int64{first, second}); !slices.Equal(got, []int64{first, second}) {
		t.Fatalf("accepted %v, want %v", got, []int64{first, second})
	}
}

func TestFiltersAndDisabledDestinations(t *testing.T) {
	f := setup(t, stream.Config{})
	ctx := context.Background()
	codes, created, all, off := newReceiver(t, 0), newReceiver(t, 0), newReceiver(t, 0), newReceiver(t, 0)
	codes.secret = f.create(stream.Input{Kind: models.StreamWebhook, Name: "codes", URL: codes.srv.URL, Filters: []string{"Registration Code"}}).Secret
	created.secret = f.create(stream.Input{Kind: models.StreamWebhook, Name: "created", URL: created.srv.URL,
		Filters: []string{" User / Created ", "", "Device/Registered"}}).Secret
	all.secret = f.create(stream.Input{Kind: models.StreamWebhook, Name: "all", URL: all.srv.URL}).Secret
	offDest := f.create(stream.Input{Kind: models.StreamWebhook, Name: "off", URL: off.srv.URL})
	off.secret = offDest.Secret
	if err := f.svc.SetEnabled(ctx, f.account.ID, admin, offDest.Destination.ID, false); err != nil {
		t.Fatal(err)
	}
	// Another account's events never reach this account's destinations.
	other := models.NewAccount("other")
	if err := f.st.CreateAccount(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := f.st.CreateEvent(ctx, models.NewEvent(&other.ID, models.EventCode, models.SubCodeUsed, admin, "x@other.example", nil)); err != nil {
		t.Fatal(err)
	}
	gen := f.event(models.EventCode, models.SubCodeGenerated, "a@example.com")
	userCreated := f.event(models.EventUser, models.SubUserCreated, "b@example.com")
	userDisabled := f.event(models.EventUser, models.SubUserDisabled, "c@example.com")
	expiring := f.event(models.EventCode, models.SubCodeExpiring, "d@example.com")
	registered := f.event(models.EventDevice, models.SubDeviceRegistered, "e@example.com")

	if got := codes.waitFor([]int64{gen, expiring}); !slices.Equal(got, []int64{gen, expiring}) {
		t.Fatalf("codes got %v", got)
	}
	if got := created.waitFor([]int64{userCreated, registered}); !slices.Equal(got, []int64{userCreated, registered}) {
		t.Fatalf("created got %v", got)
	}
	got := all.waitFor([]int64{gen, userCreated, userDisabled, expiring, registered})
	all.mu.Lock()
	for _, id := range got {
		if p := all.bodies[id]; p.Account != "acme" {
			t.Fatalf("event of account %q delivered", p.Account)
		}
	}
	all.mu.Unlock()
	// The one turned off got nothing queued: turned on, it receives what comes after.
	if err := f.svc.SetEnabled(ctx, f.account.ID, admin, offDest.Destination.ID, true); err != nil {
		t.Fatal(err)
	}
	later := f.event(models.EventUser, models.SubUserEnabled, "f@example.com")
	if got := off.waitFor([]int64{later}); got[len(got)-1] != later || slices.Contains(got, gen) {
		t.Fatalf("the destination that was off got %v", got)
	}
	list, err := f.svc.List(ctx, f.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 4 || !slices.Equal(list[1].Filters, []string{"Device / Registered", "User / Created"}) {
		t.Fatalf("list %+v", list)
	}
}

func TestSyslogOverTCPAndTLS(t *testing.T) {
	// The certificate of an httptest TLS server (valid for 127.0.0.1) serves the TLS collector.
	ts := httptest.NewTLSServer(http.NotFoundHandler())
	defer ts.Close()
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	f := setup(t, stream.Config{Hostname: "onramp.example.com", RootCAs: pool})

	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	secure, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: ts.TLS.Certificates})
	if err != nil {
		t.Fatal(err)
	}
	tcpMsgs, tlsMsgs := collect(t, plain), collect(t, secure)
	// The TCP one first, so that it is the first of the list (the test button below).
	f.create(stream.Input{Kind: models.StreamSyslog, Name: "tcp", URL: "tcp://" + plain.Addr().String()})
	f.create(stream.Input{Kind: models.StreamSyslog, Name: "tls", URL: "tls://" + secure.Addr().String(), Filters: []string{"Registration Code / Used"}})
	var ids []int64
	for i := range 5 {
		ids = append(ids, f.event(models.EventCode, models.SubCodeUsed, fmt.Sprintf("s%d@example.com", i)))
	}
	for name, msgs := range map[string]*collector{"tcp": tcpMsgs, "tls": tlsMsgs} {
		var got []*rfc5424.SyslogMessage
		for _, m := range msgs.wait(len(ids)) {
			if *m.MsgID != "Event_Streaming" { // a destination receives the event of its creation too
				got = append(got, m)
			}
		}
		for i, m := range got {
			if m.Version != 1 || m.Appname == nil || *m.Appname != "onramp" || m.Hostname == nil || *m.Hostname != "onramp.example.com" ||
				m.MsgID == nil || *m.MsgID != "Registration_Code" || *m.Facility != 10 || *m.Severity != 6 || m.Timestamp == nil {
				t.Fatalf("%s: message %d: %+v", name, i, m)
			}
			var p stream.Payload
			if err := json.Unmarshal([]byte(*m.Message), &p); err != nil {
				t.Fatalf("%s: message %q: %v", name, *m.Message, err)
			}
			if p.ID != ids[i] || p.SubType != "Used" || p.Account != "acme" {
				t.Fatalf("%s: message %d is %+v, want event %d", name, i, p, ids[i])
			}
		}
	}
	// The test button sends one message more.
	list, err := f.svc.List(context.Background(), f.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.svc.SendTest(context.Background(), f.account.ID, "acme", admin, list[0].ID)
	if err != nil || !a.OK {
		t.Fatalf("test event: %+v %v", a, err)
	}
	for n := len(ids); ; n++ {
		if got := tcpMsgs.wait(n); strings.Contains(*got[n-1].Message, `"test":true`) {
			break
		}
	}
}

// collector parses what a syslog listener receives with go-syslog's RFC 6587 octet-counting
// parser over its strict RFC 5424 machine.
type collector struct {
	t    *testing.T
	mu   sync.Mutex
	msgs []*rfc5424.SyslogMessage
	errs []error
}

func collect(t *testing.T, ln net.Listener) *collector {
	c := &collector{t: t}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				octetcounting.NewParser(syslog.WithListener(func(r *syslog.Result) {
					c.mu.Lock()
					defer c.mu.Unlock()
					if r.Error != nil {
						c.errs = append(c.errs, r.Error)
						return
					}
					c.msgs = append(c.msgs, r.Message.(*rfc5424.SyslogMessage))
				})).Parse(conn)
			}()
		}
	}()
	return c
}

func (c *collector) wait(n int) []*rfc5424.SyslogMessage {
	c.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		c.mu.Lock()
		msgs, errs := slices.Clone(c.msgs), slices.Clone(c.errs)
		c.mu.Unlock()
		if len(errs) > 0 {
			c.t.Fatalf("the collector could not parse a message: %v", errors.Join(errs...))
		}
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%d of %d messages arrived", len(msgs), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCreateRefusesBadInput(t *testing.T) {
	f := setup(t, stream.Config{})
	strict := stream.New(f.st, secret.NewKeys([]byte("test-secret-test-secret-test-secret!")), mustJobs(t, f.st), stream.Config{})
	for _, tc := range []struct {
		name  string
		svc   *stream.Service
		in    stream.Input
		field string
	}{
		{"no name", f.svc, stream.Input{Kind: models.StreamWebhook, URL: "https://siem.example.com"}, "name"},
		{"plain http", strict, stream.Input{Kind: models.StreamWebhook, Name: "a", URL: "http://siem.example.com/hook"}, "url"},
		{"http to this machine without development", strict, stream.Input{Kind: models.StreamWebhook, Name: "a", URL: "http://127.0.0.1:9000/"}, "url"},
		{"http elsewhere even in development", f.svc, stream.Input{Kind: models.StreamWebhook, Name: "a", URL: "http://siem.example.com/"}, "url"},
		{"credentials in the URL", f.svc, stream.Input{Kind: models.StreamWebhook, Name: "a", URL: "https://u:p@siem.example.com/"}, "url"},
		{"not a URL", f.svc, stream.Input{Kind: models.StreamWebhook, Name: "a", URL: "siem.example.com"}, "url"},
		{"syslog over UDP", f.svc, stream.Input{Kind: models.StreamSyslog, Name: "a", URL: "udp://siem.example.com:514"}, "url"},
		{"syslog without a port", f.svc, stream.Input{Kind: models.StreamSyslog, Name: "a", URL: "tls://siem.example.com"}, "url"},
		{"unknown kind", f.svc, stream.Input{Kind: "email", Name: "a", URL: "https://siem.example.com"}, "kind"},
		{"unknown event type", f.svc, stream.Input{Kind: models.StreamWebhook, Name: "a", URL: "https://siem.example.com", Filters: []string{"Users"}}, "events"},
	} {
		_, err := tc.svc.Create(context.Background(), f.account.ID, admin, tc.in)
		var ve *models.ValidationError
		if !errors.As(err, &ve) || ve.Fields[tc.field] == "" {
			t.Errorf("%s: %v, want a message on %s", tc.name, err, tc.field)
		}
	}
	if _, err := strict.Create(context.Background(), f.account.ID, admin, stream.Input{Kind: models.StreamSyslog, Name: "ok", URL: "tls://siem.example.com:6514"}); err != nil {
		t.Fatal(err)
	}
}

func mustJobs(t *testing.T, s *store.Store) *jobs.Jobs {
	t.Helper()
	j, err := jobs.New(s, jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestSignAndVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":1}`)
	h := stream.Sign("whsec_x", now, body)
	if !strings.HasPrefix(h, "t=1800000000,v1=") || len(h) != len("t=1800000000,v1=")+64 {
		t.Fatalf("header %q", h)
	}
	for _, tc := range []struct {
		name   string
		secret string
		header string
		body   string
		at     time.Time
		ok     bool
	}{
		{"genuine", "whsec_x", h, `{"id":1}`, now.Add(time.Minute), true},
		{"body changed", "whsec_x", h, `{"id":2}`, now, false},
		{"other secret", "whsec_y", h, `{"id":1}`, now, false},
		{"replayed later", "whsec_x", h, `{"id":1}`, now.Add(10 * time.Minute), false},
		{"no signature", "whsec_x", "t=1800000000", `{"id":1}`, now, false},
	} {
		if err := stream.Verify(tc.secret, tc.header, []byte(tc.body), tc.at, 5*time.Minute); (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestBackoffSchedule(t *testing.T) {
	want := []time.Duration{10 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute,
		30 * time.Minute, time.Hour, time.Hour}
	for i, w := range want {
		if got := stream.Backoff(i + 1); got != w {
			t.Errorf("after attempt %d: %s, want %s", i+1, got, w)
		}
	}
}

// TestNoKickAfterClose: once the store closes, a commit's kick starts nothing (it would query
// a closed database, and its WaitGroup would gain work while the close waits for it).
func TestNoKickAfterClose(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	log := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	j, err := jobs.New(s, jobs.Config{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	svc := stream.New(s, secret.NewKeys([]byte("test-secret-test-secret-test-secret!")), j, stream.Config{Logger: logger})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	svc.Kick()
	// A kick that started would fail at once on the closed database and say so.
	time.Sleep(200 * time.Millisecond)
	if strings.Contains(log.String(), "could not start deliveries") {
		t.Fatalf("a kick ran after the close:\n%s", log.String())
	}
}

// TestKicksAreSpaced: a steady stream of commits (a kick every 200 µs, as a thousand
// redemptions a second would make) costs a look for deliveries per KickRecheck, not one per
// commit.
func TestKicksAreSpaced(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	var mu sync.Mutex
	looks := 0
	if err := s.Trace(func(sql string, _ []any) {
		if strings.Contains(sql, "stream_deliveries") {
			mu.Lock()
			looks++
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	j, err := jobs.New(s, jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	svc := stream.New(s, secret.NewKeys([]byte("test-secret-test-secret-test-secret!")), j, stream.Config{})
	start := time.Now()
	for time.Since(start) < 6*stream.KickRecheck {
		svc.Kick()
		time.Sleep(200 * time.Microsecond)
	}
	elapsed := time.Since(start)
	// The last kick's look, and the one after it, end within two rechecks.
	time.Sleep(3 * stream.KickRecheck)
	mu.Lock()
	got := looks
	mu.Unlock()
	if most := int(elapsed/stream.KickRecheck) + 3; got < 2 || got > most {
		t.Errorf("%d looks for deliveries over %s of kicks, want 2 to %d", got, elapsed.Round(time.Millisecond), most)
	}
}
