package retention

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"onramp/migrations"
	"onramp/models"
	"onramp/models/jobs"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

type fixture struct {
	t     *testing.T
	s     *store.Store
	svc   *Service
	now   time.Time
	owned map[string]*models.Account
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	s := storetest.Open(t)
	j, err := jobs.New(s, jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, s: s, now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), owned: map[string]*models.Account{}}
	f.svc = New(s, j, nil).WithClock(func() time.Time { return f.now }).WithBatch(3)
	return f
}

func (f *fixture) account(name string, eventDays, mailDays int) *models.Account {
	f.t.Helper()
	a := models.NewAccount(name)
	a.EventRetentionDays, a.MailBodyRetentionDays = eventDays, mailDays
	if err := f.s.CreateAccount(context.Background(), a); err != nil {
		f.t.Fatal(err)
	}
	f.owned[name] = a
	return a
}

// events adds n events of the account (nil: of no account) that occurred age ago.
func (f *fixture) events(a *models.Account, n int, age time.Duration) {
	f.t.Helper()
	var id *int64
	if a != nil {
		id = &a.ID
	}
	es := make([]*models.Event, n)
	for i := range es {
		es[i] = models.NewEvent(id, models.EventUser, models.SubUserCreated, models.Actor{Type: models.ActorSystem}, "u@example.com", nil)
		es[i].OccurredAt = f.now.Add(-age)
	}
	if err := f.s.CreateEvents(context.Background(), es); err != nil {
		f.t.Fatal(err)
	}
}

// mail adds n messages of the account in status st, queued and (when sent) sent age ago.
func (f *fixture) mail(a *models.Account, n int, st models.MailStatus, age time.Duration) {
	f.t.Helper()
	at := f.now.Add(-age)
	ms := make([]*models.MailMessage, n)
	for i := range ms {
		ms[i] = &models.MailMessage{AccountID: a.ID, Kind: models.MailInvitation, ToEmail: "ann@example.com", Subject: "Activate",
			TextBody: "text body", HTMLBody: "<p>html body</p>", MessageID: fmt.Sprintf("<%s-%s-%d-%d@onramp.test>", a.Name, st, age, i),
			Status: st, Attempts: 1, CreatedAt: at, UpdatedAt: at}
		if st == models.MailSent {
			ms[i].SentAt = &at
		}
	}
	if err := f.s.CreateMailMessages(context.Background(), ms); err != nil {
		f.t.Fatal(err)
	}
}

// query runs q, written with ? placeholders, on either database.
func (f *fixture) query(q string, args ...any) *sql.Rows {
	f.t.Helper()
	if f.s.Dialect() == migrations.Postgres {
		for n := 1; strings.Contains(q, "?"); n++ {
			q = strings.Replace(q, "?", fmt.Sprintf("$%d", n), 1)
		}
	}
	rows, err := f.s.SQLDB().Query(q, args...)
	if err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	f.t.Cleanup(func() { rows.Close() })
	return rows
}

func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	rows := f.query(q, args...)
	var n int
	if !rows.Next() {
		f.t.Fatalf("%s: no row", q)
	}
	if err := rows.Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// purged returns the details of the account's Data Purged events, oldest first.
func (f *fixture) purged(a *models.Account) []map[string]string {
	f.t.Helper()
	rows := f.query("SELECT actor_type, details FROM events WHERE account_id = ? AND sub_type = ? ORDER BY id", a.ID, models.SubDataPurged)
	var out []map[string]string
	for rows.Next() {
		var actor, details string
		if err := rows.Scan(&actor, &details); err != nil {
			f.t.Fatal(err)
		}
		d := map[string]string{}
		if err := json.Unmarshal([]byte(details), &d); err != nil {
			f.t.Fatal(err)
		}
		if actor != string(models.ActorSystem) {
			f.t.Errorf("Data Purged event by %s", actor)
		}
		out = append(out, d)
	}
	return out
}

const day = 24 * time.Hour

// TestPurge: each account's events and sent mail bodies older than its settings go, in
// batches, the mail's metadata stays, an event records what went; the events of no account
// keep the default; a clock moved on takes the next ones.
func TestPurge(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	acme := f.account("acme", 30, 7)
	globex := f.account("globex", models.DefaultEventRetentionDays, models.DefaultMailBodyRetentionDays)
	f.events(acme, 7, 40*day)
	f.events(acme, 2, 10*day)
	f.events(globex, 3, 40*day)
	f.events(globex, 2, 500*day)
	f.events(nil, 1, 500*day)
	f.events(nil, 1, 40*day)
	f.mail(acme, 4, models.MailSent, 10*day)
	f.mail(acme, 1, models.MailSent, 2*day)
	f.mail(acme, 1, models.MailFailed, 10*day)
	f.mail(globex, 2, models.MailSent, 10*day)

	res, err := f.svc.Purge(ctx, time.Hour)
	if err != nil || res != (Result{Events: 10, MailBodies: 4, Done: true}) {
		t.Fatalf("purge: %+v %v", res, err)
	}
	for _, c := range []struct {
		what string
		got  int
		want int
	}{
		{"acme events left", f.count("SELECT COUNT(*) FROM events WHERE account_id = ? AND sub_type <> ?", acme.ID, models.SubDataPurged), 2},
		{"globex events left", f.count("SELECT COUNT(*) FROM events WHERE account_id = ? AND sub_type <> ?", globex.ID, models.SubDataPurged), 3},
		{"events of no account left", f.count("SELECT COUNT(*) FROM events WHERE account_id IS NULL"), 1},
		{"emptied messages", f.count("SELECT COUNT(*) FROM mail_messages WHERE text_body = '' AND html_body = '' AND body_purged_at IS NOT NULL"), 4},
		{"emptied messages with their metadata", f.count(`SELECT COUNT(*) FROM mail_messages WHERE body_purged_at IS NOT NULL
			AND account_id = ? AND status = 'sent' AND subject = 'Activate' AND to_email = 'ann@example.com' AND sent_at IS NOT NULL`, acme.ID), 4},
		{"messages with their bodies", f.count("SELECT COUNT(*) FROM mail_messages WHERE text_body = 'text body' AND body_purged_at IS NULL"), 4},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.what, c.got, c.want)
		}
	}
	want := map[string]string{"events_deleted": "7", "events_before": "2026-05-02T12:00:00Z", "mail_bodies_removed": "4",
		"mail_sent_before": "2026-05-25T12:00:00Z"}
	if got := f.purged(acme); len(got) != 1 || fmt.Sprint(got[0]) != fmt.Sprint(want) {
		t.Fatalf("acme's Data Purged events %v, want one with %v", got, want)
	}
	if got := f.purged(globex); len(got) != 1 || got[0]["events_deleted"] != "2" || got[0]["mail_bodies_removed"] != "0" {
		t.Fatalf("globex's Data Purged events %v", got)
	}

	// Nothing more to do: nothing purged, nothing recorded.
	if res, err := f.svc.Purge(ctx, time.Hour); err != nil || res != (Result{Done: true}) {
		t.Fatalf("second purge: %+v %v", res, err)
	}
	if n := len(f.purged(acme)); n != 1 {
		t.Fatalf("%d Data Purged events after a purge with nothing to do", n)
	}

	// 25 days on, acme's recent events and the mail sent 2 days before are past their time:
	f.now = f.now.Add(25 * day)
	// acme's 2 events (35 days old) go, its Data Purged event (25 days) stays; acme's last
	// message (27 days, over 7) and globex's two (35 days, over 30) are emptied.
	if res, err := f.svc.Purge(ctx, time.Hour); err != nil || res != (Result{Events: 2, MailBodies: 3, Done: true}) {
		t.Fatalf("purge 25 days on: %+v %v", res, err)
	}
	if n := f.count("SELECT COUNT(*) FROM events WHERE account_id = ? AND sub_type <> ?", acme.ID, models.SubDataPurged); n != 0 {
		t.Fatalf("%d acme events older than 30 days left", n)
	}
	if n := f.count("SELECT COUNT(*) FROM mail_messages WHERE account_id = ? AND body_purged_at IS NULL AND status = 'sent'", acme.ID); n != 0 {
		t.Fatalf("%d acme messages keep their bodies", n)
	}
}

// TestPurgeInSlices: a purge out of time stops between batches, says it is not done, and
// the next call goes on where it stopped.
func TestPurgeInSlices(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	acme := f.account("acme", 30, 7)
	f.events(acme, 8, 40*day)
	f.events(nil, 2, 500*day)

	res, err := f.svc.Purge(ctx, 0)
	if err != nil || res.Done || res.Events != 2 {
		t.Fatalf("purge without time: %+v %v, want one batch (the 2 events of no account) and not done", res, err)
	}
	for res, err = f.svc.Purge(ctx, 0); !res.Done; res, err = f.svc.Purge(ctx, 0) {
		if err != nil || res.Events != 3 && res.Events != 2 {
			t.Fatalf("a slice: %+v %v, want one batch", res, err)
		}
	}
	if n := f.count("SELECT COUNT(*) FROM events WHERE account_id = ? AND sub_type <> ?", acme.ID, models.SubDataPurged); n != 0 {
		t.Fatalf("%d events left after the slices", n)
	}
}

func TestSaveSettings(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	acme := f.account("acme", models.DefaultEventRetentionDays, models.DefaultMailBodyRetentionDays)
	boss := &models.Admin{ID: 1, AccountID: acme.ID, Email: "boss@example.com", Role: models.RoleAdmin}
	help := &models.Admin{ID: 2, AccountID: acme.ID, Email: "help@example.com", Role: models.RoleHelpdesk}

	var ve *models.ValidationError
	for _, bad := range []Settings{{EventDays: 29, MailBodyDays: 30}, {EventDays: 400, MailBodyDays: 0}, {EventDays: 3651, MailBodyDays: 3651}} {
		if _, err := f.svc.Save(ctx, boss, "198.51.100.7", bad); !errors.As(err, &ve) {
			t.Fatalf("%+v: %v, want a validation error", bad, err)
		}
	}
	if _, err := f.svc.Save(ctx, help, "198.51.100.7", Settings{EventDays: 90, MailBodyDays: 7}); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("helpdesk: %v", err)
	}
	changed, err := f.svc.Save(ctx, boss, "198.51.100.7", Settings{EventDays: 90, MailBodyDays: 30})
	if err != nil || !changed {
		t.Fatalf("save: %v %v", changed, err)
	}
	if got, _ := f.svc.Get(ctx, boss); got != (Settings{EventDays: 90, MailBodyDays: 30}) {
		t.Fatalf("saved %+v", got)
	}
	rows := f.query("SELECT details FROM events WHERE account_id = ? AND sub_type = ?", acme.ID, models.SubSettingsChanged)
	var details string
	if !rows.Next() || rows.Scan(&details) != nil || details != `{"event_retention":"400 days → 90 days"}` {
		t.Fatalf("Settings Changed details %q", details)
	}
	if changed, err := f.svc.Save(ctx, boss, "198.51.100.7", Settings{EventDays: 90, MailBodyDays: 30}); err != nil || changed {
		t.Fatalf("the same again: %v %v", changed, err)
	}
}

// An account whose retention was never set (0 days, written around the settings) keeps the
// defaults: a purge never takes everything.
func TestPurgeWithoutSettingsKeepsTheDefaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	bare := f.account("bare", 0, 0)
	f.events(bare, 2, 40*day)
	f.events(bare, 1, 401*day)
	f.mail(bare, 1, models.MailSent, 10*day)
	f.mail(bare, 1, models.MailSent, 31*day)
	if n := f.count("SELECT COUNT(*) FROM accounts WHERE event_retention_days = 0 AND mail_body_retention_days = 0"); n != 1 {
		t.Fatalf("%d accounts without settings", n)
	}
	if res, err := f.svc.Purge(context.Background(), time.Hour); err != nil || res != (Result{Events: 1, MailBodies: 1, Done: true}) {
		t.Fatalf("purge: %+v %v, want the defaults (400 and 30 days) applied", res, err)
	}
}
