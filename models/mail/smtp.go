package mail

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"onramp/models"
)

// Sender delivers one message. Its errors are shown to admins and logged, so they must never
// hold a password.
type Sender interface {
	Send(ctx context.Context, from string, m *models.MailMessage) error
}

// ErrRecipientRefused marks a permanent refusal of the recipient (a 5xx reply to RCPT TO): the
// message fails at once, since trying again would get the same answer.
var ErrRecipientRefused = errors.New("recipient refused")

// TLSMode is how the connection to the SMTP server is protected.
type TLSMode string

const (
	TLSNone          TLSMode = "none"          // plain text (a relay on localhost)
	TLSOpportunistic TLSMode = "opportunistic" // STARTTLS when the server offers it
	TLSStartTLS      TLSMode = "starttls"      // STARTTLS required: the default of smtp://
	TLSImplicit      TLSMode = "tls"           // TLS from the first byte: the default of smtps://
)

// SMTPConfig is a parsed SMTP_URL.
type SMTPConfig struct {
	Host     string
	Port     int
	TLS      TLSMode
	Username string
	Password string
	// Auth names the mechanism (plain, login, cram-md5, scram-sha-256, ...); empty picks the
	// strongest the server offers when there is a username.
	Auth string
}

// ParseSMTPURL reads SMTP_URL: smtp://[user:pass@]host[:port][?tls=…&auth=…] (port 587,
// STARTTLS required) or smtps://… (port 465, TLS from the start). tls is none, opportunistic,
// starttls or tls. Errors never repeat the URL, which may hold a password.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return SMTPConfig{}, errors.New("SMTP_URL is not a URL (expected smtp://user:pass@host:587)")
	}
	var c SMTPConfig
	switch u.Scheme {
	case "smtp":
		c.Port, c.TLS = 587, TLSStartTLS
	case "smtps":
		c.Port, c.TLS = 465, TLSImplicit
	default:
		return c, errors.New("SMTP_URL must start with smtp:// or smtps://")
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return c, errors.New("SMTP_URL has no host")
	}
	if p := u.Port(); p != "" {
		if c.Port, err = strconv.Atoi(p); err != nil || c.Port < 1 || c.Port > 65535 {
			return c, errors.New("SMTP_URL has an invalid port")
		}
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	for k, v := range u.Query() {
		switch k {
		case "tls":
			switch m := TLSMode(strings.ToLower(v[0])); m {
			case TLSNone, TLSOpportunistic, TLSStartTLS, TLSImplicit:
				c.TLS = m
			default:
				return c, fmt.Errorf("SMTP_URL: tls=%s is not one of none, opportunistic, starttls, tls", v[0])
			}
		case "auth":
			c.Auth = strings.ToLower(v[0])
			var t gomail.SMTPAuthType
			if err := t.UnmarshalString(c.Auth); err != nil {
				return c, fmt.Errorf("SMTP_URL: unknown auth=%s", v[0])
			}
		default:
			return c, fmt.Errorf("SMTP_URL: unknown option %q (known: tls, auth)", k)
		}
	}
	return c, nil
}

// SMTPSender delivers over SMTP with go-mail, one connection per message.
type SMTPSender struct {
	cfg  SMTPConfig
	opts []gomail.Option
}

// NewSMTPSender checks the configuration by building a client once (no connection yet).
func NewSMTPSender(c SMTPConfig) (*SMTPSender, error) {
	opts := []gomail.Option{gomail.WithPort(c.Port), gomail.WithTimeout(30 * time.Second)}
	switch c.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if c.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if c.Auth != "" {
			if err := auth.UnmarshalString(c.Auth); err != nil {
				return nil, fmt.Errorf("mail: auth %q: %w", c.Auth, err)
			}
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(c.Username), gomail.WithPassword(c.Password))
	}
	s := &SMTPSender{cfg: c, opts: opts}
	if _, err := gomail.NewClient(c.Host, opts...); err != nil {
		return nil, fmt.Errorf("mail: %w", s.clean(err))
	}
	return s, nil
}

// Send delivers m as multipart/alternative (text, then HTML) with its stored Message-ID.
func (s *SMTPSender) Send(ctx context.Context, from string, m *models.MailMessage) error {
	msg := gomail.NewMsg()
	if err := msg.From(from); err != nil {
		return fmt.Errorf("from address: %w", err)
	}
	if err := msg.To(m.ToEmail); err != nil {
		return fmt.Errorf("%w: %v", ErrRecipientRefused, err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(strings.Trim(m.MessageID, "<>")) // go-mail adds the brackets
	msg.SetDateWithValue(m.CreatedAt)
	msg.SetUserAgent("Onramp")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text())
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML())
	client, err := gomail.NewClient(s.cfg.Host, s.opts...)
	if err != nil {
		return s.clean(err)
	}
	return s.clean(client.DialAndSendWithContext(ctx, msg))
}

// clean makes a delivery error safe to show and log, and marks permanent recipient refusals.
func (s *SMTPSender) clean(err error) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	if s.cfg.Password != "" {
		// Defence in depth: no known go-mail error carries the password, but a future one might.
		text = strings.ReplaceAll(text, s.cfg.Password, "****")
		text = strings.ReplaceAll(text, url.QueryEscape(s.cfg.Password), "****")
	}
	var se *gomail.SendError
	if errors.As(err, &se) && se.Reason == gomail.ErrSMTPRcptTo && !se.IsTemp() {
		return fmt.Errorf("%w: %s", ErrRecipientRefused, text)
	}
	return errors.New(text)
}
