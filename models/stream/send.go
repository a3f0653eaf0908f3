package stream

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"onramp/models"
)

// Headers of a webhook request (docs/streaming.md).
const (
	HeaderSignature = "Onramp-Signature"
	HeaderEventID   = "Onramp-Event-Id"
)

// sendTimeout bounds one delivery: connecting, sending and reading the answer.
const sendTimeout = 10 * time.Second

// excerptLen is how much of an answer the delivery log keeps.
const excerptLen = 200

// Payload is the JSON of one event, as webhooks receive it and syslog messages carry it.
type Payload struct {
	ID         int64           `json:"id"`
	Account    string          `json:"account"`
	OccurredAt time.Time       `json:"occurred_at"`
	Type       string          `json:"type"`
	SubType    string          `json:"sub_type"`
	Actor      PayloadActor    `json:"actor"`
	Email      string          `json:"email,omitempty"`
	SDPUserID  *int64          `json:"sdp_user_id,omitempty"`
	DeviceID   *int64          `json:"device_id,omitempty"`
	SourceIP   string          `json:"source_ip,omitempty"`
	Details    json.RawMessage `json:"details,omitempty"`
	// Test marks the event of the Send test event button (its id is 0).
	Test bool `json:"test,omitempty"`
}

// PayloadActor is who caused the event.
type PayloadActor struct {
	Type  string `json:"type"`
	ID    *int64 `json:"id,omitempty"`
	Label string `json:"label,omitempty"`
}

// NewPayload is the payload of an event of account.
func NewPayload(account string, e *models.Event) Payload {
	p := Payload{ID: e.ID, Account: account, OccurredAt: e.OccurredAt.UTC(), Type: string(e.Type), SubType: e.SubType,
		Actor: PayloadActor{Type: string(e.ActorType), ID: e.ActorID, Label: e.ActorLabel}, Email: e.Email,
		SDPUserID: e.SDPUserID, DeviceID: e.DeviceID, SourceIP: e.SourceIP}
	switch {
	case e.Details == "":
	case json.Valid([]byte(e.Details)):
		p.Details = json.RawMessage(e.Details)
	default:
		p.Details, _ = json.Marshal(e.Details)
	}
	return p
}

// Sign is the Onramp-Signature header of body sent at t with secret:
// t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// ErrBadSignature is Verify's answer for a header that does not match.
var ErrBadSignature = errors.New("stream: signature does not match")

// Verify checks an Onramp-Signature header against body and secret, refusing a timestamp
// further than tolerance from now (a replayed request): what a receiver does.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, sig string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return ErrBadSignature
	}
	t := time.Unix(sec, 0)
	if now.Sub(t).Abs() > tolerance {
		return fmt.Errorf("%w: timestamp too old", ErrBadSignature)
	}
	want := Sign(secret, t, body)
	if !hmac.Equal([]byte(want), []byte("t="+ts+",v1="+sig)) {
		return ErrBadSignature
	}
	return nil
}

// senders deliver to webhooks and syslog collectors.
type senders struct {
	client   *http.Client
	dialer   *net.Dialer
	tls      *tls.Config
	hostname string
}

func newSenders(cfg Config) *senders {
	d := &net.Dialer{Timeout: sendTimeout}
	if !cfg.AllowLoopback {
		d.Control = refuseLocal
	}
	tc := &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}
	tr := &http.Transport{DialContext: d.DialContext, TLSClientConfig: tc, MaxIdleConnsPerHost: 4,
		IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: sendTimeout, ResponseHeaderTimeout: sendTimeout}
	host := cfg.Hostname
	if host == "" {
		host = "-"
	}
	return &senders{
		client: &http.Client{Transport: tr, Timeout: sendTimeout,
			// A redirect is an answer, not a delivery: the receiver's URL is the one configured.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		dialer: d, tls: tc, hostname: host,
	}
}

// refuseLocal keeps webhooks and syslog off this machine and the cloud metadata service
// (loopback, link-local, unspecified and multicast addresses), checked on the address actually
// dialled so that a DNS name cannot point there later. Private networks stay reachable: a SIEM
// often lives on one.
func refuseLocal(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() || ip.IsMulticast() {
		return fmt.Errorf("the address %s is not allowed (this machine or a link-local address)", host)
	}
	return nil
}

// webhook posts one signed payload and returns the attempt.
func (s *senders) webhook(ctx context.Context, rawURL, secret string, id string, body []byte, now time.Time) models.StreamAttempt {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return failed(0, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Onramp-Webhook/1")
	req.Header.Set(HeaderEventID, id)
	req.Header.Set(HeaderSignature, Sign(secret, now, body))
	res, err := s.client.Do(req)
	if err != nil {
		return failed(0, err)
	}
	defer res.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(res.Body, excerptLen))
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20)) // so that the connection is reused
	a := models.StreamAttempt{Status: res.StatusCode, OK: res.StatusCode >= 200 && res.StatusCode < 300, Excerpt: excerpt(string(head))}
	if !a.OK && a.Excerpt == "" {
		a.Excerpt = res.Status
	}
	return a
}

func failed(status int, err error) models.StreamAttempt {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is on the page already, and may carry a token of the receiver's
	}
	return models.StreamAttempt{Status: status, Excerpt: excerpt(err.Error())}
}

// excerpt is the start of s as valid UTF-8 on one line.
func excerpt(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > excerptLen {
		s = s[:excerptLen]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return strings.Join(strings.Fields(s), " ")
}

// syslogConn is a connection to a collector: messages are framed by octet counting (RFC 6587,
// "<length> <message>").
type syslogConn struct {
	c net.Conn
	w *bufio.Writer
}

// dialSyslog connects to tcp://host:port or tls://host:port.
func (s *senders) dialSyslog(ctx context.Context, rawURL string) (*syslogConn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	var c net.Conn
	if u.Scheme == "tls" {
		cfg := s.tls.Clone()
		cfg.ServerName = u.Hostname()
		c, err = (&tls.Dialer{NetDialer: s.dialer, Config: cfg}).DialContext(ctx, "tcp", u.Host)
	} else {
		c, err = s.dialer.DialContext(ctx, "tcp", u.Host)
	}
	if err != nil {
		return nil, err
	}
	return &syslogConn{c: c, w: bufio.NewWriter(c)}, nil
}

// write buffers one message; flush sends what is buffered.
func (c *syslogConn) write(msg []byte) error {
	if _, err := c.w.WriteString(strconv.Itoa(len(msg)) + " "); err != nil {
		return err
	}
	_, err := c.w.Write(msg)
	return err
}

func (c *syslogConn) flush() error {
	_ = c.c.SetWriteDeadline(time.Now().Add(sendTimeout))
	return c.w.Flush()
}

func (c *syslogConn) close() error { return c.c.Close() }

// Syslog facility and severity of every message: security/authorization (10), informational (6).
const syslogPRI = 10*8 + 6

// SyslogMessage is the RFC 5424 message of a payload: the event's type as MSGID (spaces as
// underscores), no structured data, the JSON payload as MSG.
func SyslogMessage(hostname string, p Payload, body []byte) []byte {
	msgID := strings.ReplaceAll(p.Type, " ", "_")
	if len(msgID) > 32 {
		msgID = msgID[:32]
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "<%d>1 %s %s onramp - %s - ", syslogPRI, p.OccurredAt.UTC().Format("2006-01-02T15:04:05.000000Z"), hostname, msgID)
	b.Write(body)
	return b.Bytes()
}
