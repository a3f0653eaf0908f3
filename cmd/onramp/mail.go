package main

import (
	"errors"
	"log/slog"
	"net/url"

	"onramp/models/mail"
)

// mailConfig reads SMTP_URL and MAIL_FROM. Without SMTP_URL (the default) mail is kept in the
// console's outbox with status held, so that a newcomer can still pass an activation link on.
func mailConfig(cfg config, log *slog.Logger) (mail.Config, error) {
	c := mail.Config{From: cfg.MailFrom, Logger: log}
	if cfg.SMTPURL != "" {
		if c.From == "" {
			return c, errors.New("MAIL_FROM is required with SMTP_URL (for example MAIL_FROM='Onramp <vpn@example.com>')")
		}
		sc, err := mail.ParseSMTPURL(cfg.SMTPURL)
		if err != nil {
			return c, err
		}
		if c.Sender, err = mail.NewSMTPSender(sc); err != nil {
			return c, err
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
	return c, nil
}
