package main

import (
	"errors"
	"log/slog"
	"net/url"

	"onramp/models/mail"
	"onramp/models/store"
	"onramp/views/emails"
)

// newOutbox builds the mail queue from SMTP_URL and MAIL_FROM. Without SMTP_URL (the default)
// mail is kept in the console's outbox with status held, so that a newcomer can still pass an
// activation link on. Its River client also runs the other services' jobs.
func newOutbox(cfg config, s *store.Store, log *slog.Logger, jobs ...mail.Jobs) (*mail.Outbox, error) {
	c := mail.Config{From: cfg.MailFrom, Logger: log, Jobs: jobs}
	if cfg.SMTPURL != "" {
		if c.From == "" {
			return nil, errors.New("MAIL_FROM is required with SMTP_URL (for example MAIL_FROM='Onramp <vpn@example.com>')")
		}
		sc, err := mail.ParseSMTPURL(cfg.SMTPURL)
		if err != nil {
			return nil, err
		}
		if c.Sender, err = mail.NewSMTPSender(sc); err != nil {
			return nil, err
		}
		log.Info("email is delivered over SMTP", "host", sc.Host, "port", sc.Port, "tls", string(sc.TLS))
	} else {
		log.Info("SMTP_URL is not set: email is kept in the console's outbox (status held)")
	}
	if c.From == "" {
		// Nothing is sent without SMTP_URL: this only names the Message-IDs.
		host := "localhost"
		if u, err := url.Parse(cfg.BaseURL); err == nil && u.Hostname() != "" {
			host = u.Hostname()
		}
		c.From = "Onramp <onramp@" + host + ">"
	}
	return mail.NewOutbox(s, emails.NewRenderer(cfg.BaseURL), c)
}
