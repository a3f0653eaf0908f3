package main

import (
	"log/slog"
	"strings"
	"testing"

	"onramp/models/jobs"
	"onramp/models/mail"
	"onramp/models/store/storetest"
)

func TestMailConfiguration(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	log := slog.New(slog.DiscardHandler)
	for _, c := range []struct {
		env        map[string]string
		delivering bool
		err        string
	}{
		{env: nil},
		{env: map[string]string{"SMTP_URL": "smtps://u:pw@mail.example.com", "MAIL_FROM": "Onramp <vpn@example.com>"}, delivering: true},
		{env: map[string]string{"SMTP_URL": "smtps://u:pw@mail.example.com"}, err: "MAIL_FROM is required"},
		{env: map[string]string{"SMTP_URL": "smtp://u:topsecret@h?tls=maybe", "MAIL_FROM": "vpn@example.com"}, err: "tls=maybe"},
		{env: map[string]string{"SMTP_URL": "smtp://h", "MAIL_FROM": "not an address"}, err: "MAIL_FROM"},
	} {
		j, err := jobs.New(s, jobs.Config{})
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := loadConfig(testEnv(t, c.env)) // SMTP_URL and MAIL_FROM's presence are checked here
		var mc mail.Config
		if err == nil {
			mc, err = mailConfig(cfg, log)
		}
		var o *mail.Outbox
		if err == nil {
			o, err = mail.NewOutbox(s, j, nil, mc) // the From address is checked here
		}
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), "topsecret") {
				t.Errorf("%v: error %v, want one about %s (without the password)", c.env, err, c.err)
			}
		case err != nil:
			t.Errorf("%v: %v", c.env, err)
		case o.Delivering() != c.delivering:
			t.Errorf("%v: delivering %v", c.env, o.Delivering())
		}
	}
}
