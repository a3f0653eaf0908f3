// Package mailtest runs a real SMTP server inside a test (github.com/emersion/go-smtp, on
// 127.0.0.1): it records what it accepts, and can refuse mail or go down and come back on the
// same port, to test delivery, retries and outages from outside the code under test.
package mailtest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one accepted email, with its parts decoded.
type Message struct {
	From      string
	To        []string
	Header    mail.Header
	MessageID string
	Text      string // the text/plain part
	HTML      string // the text/html part
	Raw       []byte
}

// Server is an SMTP server for one test.
type Server struct {
	t    testing.TB
	addr string
	user string
	pass string

	mu       sync.Mutex
	srv      *smtp.Server
	ln       net.Listener
	refusal  *smtp.SMTPError
	rcptNo   map[string]*smtp.SMTPError
	received []Message
	refused  int
}

// Start listens on a free port of 127.0.0.1 until the test ends. With a user and password, the
// server requires AUTH PLAIN with them.
func Start(t testing.TB, userPass ...string) *Server {
	t.Helper()
	s := &Server{t: t}
	if len(userPass) == 2 {
		s.user, s.pass = userPass[0], userPass[1]
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(s.Stop)
	return s
}

// URL is the SMTP_URL of the server (plain text: a test has no certificate).
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.addr, RawQuery: "tls=none"}
	if s.user != "" {
		// go-mail discovers only challenge-response mechanisms without TLS; PLAIN is named
		// explicitly, which it allows on loopback.
		u.User = url.UserPassword(s.user, s.pass)
		u.RawQuery += "&auth=plain"
	}
	return u.String()
}

func (s *Server) serve(ln net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "mailtest.local"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	s.mu.Lock()
	s.srv, s.ln = srv, ln
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// Stop closes the server: connections are refused until Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, ln := s.srv, s.ln
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if srv != nil {
		// The listener is closed here too: Close only knows it once Serve has started.
		_ = ln.Close()
		_ = srv.Close()
	}
}

// Restart listens again on the same address after Stop.
func (s *Server) Restart() {
	s.t.Helper()
	var ln net.Listener
	var err error
	// The old socket may linger for a moment after Close.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
	}
	if err != nil {
		s.t.Fatalf("mailtest: listen again on %s: %v", s.addr, err)
	}
	s.serve(ln)
}

// Refuse answers every MAIL FROM with this SMTP code (451: try later; 550: never) until Accept.
func (s *Server) Refuse(code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusal = &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: message}
}

// RefuseRecipient answers RCPT TO addr with this SMTP code, for good.
func (s *Server) RefuseRecipient(addr string, code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rcptNo == nil {
		s.rcptNo = map[string]*smtp.SMTPError{}
	}
	s.rcptNo[addr] = &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: message}
}

// Accept ends Refuse.
func (s *Server) Accept() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusal = nil
}

// Refused counts the transactions refused so far.
func (s *Server) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// Messages returns what the server accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.received...)
}

// Wait returns the accepted messages once there are at least n, and fails the test when that
// takes longer than within.
func (s *Server) Wait(n int, within time.Duration) []Message {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := s.Messages()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("mailtest: %d messages after %s, want %d", len(got), within, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type session struct {
	s      *Server
	authed bool
	from   string
	to     []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != ss.s.user || pass != ss.s.pass {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.user != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if r := ss.s.refusal; r != nil {
		ss.s.refused++
		return r
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	r := ss.s.rcptNo[to]
	if r != nil {
		ss.s.refused++
	}
	ss.s.mu.Unlock()
	if r != nil {
		return r
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parse(raw)
	if err != nil {
		// A malformed message is a bug in the sender: refuse it loudly.
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCodeNotSet, Message: "mailtest: " + err.Error()}
	}
	m.From, m.To = ss.from, ss.to
	ss.s.mu.Lock()
	ss.s.received = append(ss.s.received, m)
	ss.s.mu.Unlock()
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// parse reads a message and the text and HTML parts of a multipart/alternative body.
func parse(raw []byte) (Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, err
	}
	m := Message{Header: msg.Header, MessageID: msg.Header.Get("Message-Id"), Raw: raw}
	ct, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return m, err
	}
	if !strings.HasPrefix(ct, "multipart/") {
		body, err := decode(msg.Body, msg.Header.Get("Content-Transfer-Encoding"))
		if err != nil {
			return m, err
		}
		if ct == "text/html" {
			m.HTML = body
		} else {
			m.Text = body
		}
		return m, nil
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return m, nil
		}
		if err != nil {
			return m, err
		}
		body, err := decode(p, p.Header.Get("Content-Transfer-Encoding"))
		if err != nil {
			return m, err
		}
		switch pct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pct {
		case "text/plain":
			m.Text = body
		case "text/html":
			m.HTML = body
		default:
			return m, fmt.Errorf("unexpected part %s", pct)
		}
	}
}

func decode(r io.Reader, encoding string) (string, error) {
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r) // the decoder skips line breaks
	}
	b, err := io.ReadAll(r)
	return strings.ReplaceAll(string(b), "\r\n", "\n"), err
}
