package mail_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"onramp/migrations"
	"onramp/models"
	"onramp/models/jobs"
	"onramp/models/mail"
	"onramp/models/mail/mailtest"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

// fakeRenderer stands in for views/emails (tested there and end to end in handlers).
type fakeRenderer struct{}

func (fakeRenderer) Invitation(_ context.Context, inv mail.Invitation) (mail.Rendered, error) {
	return mail.Rendered{Subject: "Activate your " + inv.AccountName + " VPN account",
		Text: "Open " + inv.ActivationURL + "\n", HTML: `<p><a href="` + inv.ActivationURL + `">Activate</a></p>`}, nil
}

func (fakeRenderer) DisabledNotice(_ context.Context, n mail.DisabledNotice) (mail.Rendered, error) {
	return mail.Rendered{Subject: "Disabled", Text: "Your access is disabled.\n", HTML: "<p>Your access is disabled.</p>"}, nil
}

func (fakeRenderer) Code(_ context.Context, m mail.CodeMail) (mail.Rendered, error) {
	return mail.Rendered{Subject: "Your code", Text: "Code " + m.Code + "\nLink " + m.EnrollLink + "\n", HTML: "<p>" + m.Code + "</p>"}, nil
}

type env struct {
	t       *testing.T
	store   *store.Store
	outbox  *mail.Outbox
	account *models.Account
}

// newEnv opens a fresh database with one account and an outbox delivering to smtpURL ("" for
// none), started, with retries a few milliseconds apart.
func newEnv(t *testing.T, smtpURL string, maxAttempts int) *env {
	t.Helper()
	if smtpURL == "" {
		return newEnvSender(t, nil, maxAttempts)
	}
	return newEnvSender(t, smtpSender(t, smtpURL), maxAttempts)
}

func smtpSender(t *testing.T, smtpURL string) *mail.SMTPSender {
	t.Helper()
	c, err := mail.ParseSMTPURL(smtpURL)
	if err != nil {
		t.Fatal(err)
	}
	sender, err := mail.NewSMTPSender(c)
	if err != nil {
		t.Fatal(err)
	}
	return sender
}

func newEnvSender(t *testing.T, sender mail.Sender, maxAttempts int) *env {
	t.Helper()
	e := newBareEnv(t)
	e.outbox = e.server(sender, maxAttempts, true)
	return e
}

// newBareEnv opens a fresh database with one account, and no outbox yet.
func newBareEnv(t *testing.T) *env {
	t.Helper()
	s := storetest.Open(t)
	acct := models.NewAccount("acme")
	if err := s.CreateAccount(t.Context(), acct); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, store: s, account: acct}
}

// server builds an outbox over e's database with a River client of its own, as a server process
// has, retrying a few milliseconds apart; start starts its jobs until the test ends.
func (e *env) server(sender mail.Sender, maxAttempts int, start bool) *mail.Outbox {
	t := e.t
	t.Helper()
	j, err := jobs.New(e.store, jobs.Config{RetryDelay: 20 * time.Millisecond, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	o, err := mail.NewOutbox(e.store, j, fakeRenderer{}, mail.Config{From: "Onramp <onramp@example.com>", Sender: sender, MaxAttempts: maxAttempts})
	if err != nil {
		t.Fatal(err)
	}
	if !start {
		return o
	}
	if err := j.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Registered after the store's Close, so it runs before it: jobs stop, then the database.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := j.Stop(ctx); err != nil {
			t.Errorf("stopping the outbox: %v", err)
		}
	})
	return o
}

func (e *env) invitation(i int) mail.Invitation {
	return mail.Invitation{AccountID: e.account.ID, AccountName: e.account.Name, To: fmt.Sprintf("user%d@example.com", i),
		FirstName: "User", ActivationURL: fmt.Sprintf("http://onramp.test/myvpn/activate/token-%d", i), ExpiresAt: time.Now().Add(24 * time.Hour)}
}

// queue queues invitations 0..n-1 in one transaction.
func (e *env) queue(n int) {
	e.t.Helper()
	err := e.store.Tx(e.t.Context(), func(tx *store.Store) error {
		invs := make([]mail.Invitation, n)
		for i := range invs {
			invs[i] = e.invitation(i)
		}
		return e.outbox.QueueInvitations(e.t.Context(), tx, invs)
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// messages returns the account's messages, newest first, with their bodies.
func (e *env) messages() []*models.MailMessage {
	e.t.Helper()
	page, err := e.store.ListMailMessages(e.t.Context(), e.account.ID, 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*models.MailMessage
	for _, m := range page.Messages {
		full, err := e.store.MailMessage(e.t.Context(), e.account.ID, m.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, full)
	}
	return out
}

// waitAll waits until every message satisfies ok, failing the test after within.
func (e *env) waitAll(what string, within time.Duration, ok func(*models.MailMessage) bool) []*models.MailMessage {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for {
		ms := e.messages()
		all := len(ms) > 0
		for _, m := range ms {
			all = all && ok(m)
		}
		if all {
			return ms
		}
		if time.Now().After(deadline) {
			for _, m := range ms {
				e.t.Logf("message %d: %s, %d attempts, %q", m.ID, m.Status, m.Attempts, m.LastError)
			}
			e.t.Fatalf("messages not %s after %s", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// unfinishedJobs counts River jobs that may still run.
func (e *env) unfinishedJobs() int {
	e.t.Helper()
	var n int
	err := e.store.SQLDB().QueryRowContext(e.t.Context(),
		"SELECT COUNT(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded')").Scan(&n)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// waitJobsFinished waits until no delivery job may run any more, failing the test after within.
func (e *env) waitJobsFinished(within time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for e.unfinishedJobs() > 0 {
		if time.Now().After(deadline) {
			e.t.Fatalf("%d delivery jobs still unfinished after %s", e.unfinishedJobs(), within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *env) jobs() int {
	e.t.Helper()
	var n int
	if err := e.store.SQLDB().QueryRowContext(e.t.Context(), "SELECT COUNT(*) FROM river_job").Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestQueuedInvitationIsDelivered(t *testing.T) {
	t.Parallel()
	smtp := mailtest.Start(t)
	e := newEnv(t, smtp.URL(), 0)
	e.queue(1)
	got := smtp.Wait(1, 10*time.Second)[0]
	row := e.waitAll("sent", 5*time.Second, func(m *models.MailMessage) bool { return m.Status == models.MailSent })[0]

	if got.MessageID == "" || got.MessageID != row.MessageID || !strings.HasSuffix(row.MessageID, "@example.com>") {
		t.Errorf("Message-ID %q, row has %q", got.MessageID, row.MessageID)
	}
	if got.From != "onramp@example.com" || len(got.To) != 1 || got.To[0] != "user0@example.com" {
		t.Errorf("envelope %s → %v", got.From, got.To)
	}
	if got.Header.Get("Subject") != "Activate your acme VPN account" || !strings.Contains(got.Header.Get("From"), "onramp@example.com") {
		t.Errorf("headers %v", got.Header)
	}
	if ct := got.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") {
		t.Errorf("Content-Type %q", ct)
	}
	const link = "http://onramp.test/myvpn/activate/token-0"
	if !strings.Contains(got.Text, link) || !strings.Contains(got.HTML, `href="`+link+`"`) {
		t.Errorf("parts:\ntext %q\nhtml %q", got.Text, got.HTML)
	}
	if row.Attempts != 1 || row.SentAt == nil || row.LastError != "" || row.SDPUserID != nil {
		t.Errorf("row after delivery: %+v", row)
	}
	// Once sent, the row keeps no working link at rest; the outbox shows where it was.
	if at := row.TextBody + row.HTMLBody + row.Secret; strings.Contains(at, "token-0") {
		t.Errorf("the sent message keeps its link: %q", at)
	}
	if !strings.Contains(row.Text(), models.MailSecretRemoved) || !strings.Contains(row.HTML(), models.MailSecretRemoved) {
		t.Errorf("sent message shows %q", row.Text())
	}
}

func TestRolledBackTransactionQueuesNothing(t *testing.T) {
	t.Parallel()
	smtp := mailtest.Start(t)
	e := newEnv(t, smtp.URL(), 0)
	boom := errors.New("the user could not be created")
	err := e.store.Tx(t.Context(), func(tx *store.Store) error {
		if err := e.outbox.QueueInvitations(t.Context(), tx, []mail.Invitation{e.invitation(0)}); err != nil {
			return err
		}
		if err := e.outbox.QueueDisabledNotices(t.Context(), tx, []mail.DisabledNotice{{AccountID: e.account.ID, To: "x@example.com"}}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if n := len(e.messages()); n != 0 {
		t.Fatalf("%d messages after a rollback", n)
	}
	if n := e.jobs(); n != 0 {
		t.Fatalf("%d delivery jobs after a rollback", n)
	}
	// And the queue works: a committed message after it is the only one delivered.
	e.queue(1)
	smtp.Wait(1, 10*time.Second)
	e.waitAll("sent", 5*time.Second, func(m *models.MailMessage) bool { return m.Status == models.MailSent })
	if n := len(smtp.Messages()); n != 1 {
		t.Fatalf("%d messages delivered", n)
	}
}

// The SMTP server is down, then refuses with 451, then comes back: every message is delivered
// exactly once, none is lost, and the outbox shows the retries meanwhile without the password.
func TestDeliverySurvivesAnSMTPOutage(t *testing.T) {
	t.Parallel()
	const password = "hunter2-s3cret"
	smtp := mailtest.Start(t, "mailer", password)
	smtp.Stop()
	e := newEnv(t, smtp.URL(), 1000)
	const n = 6
	e.queue(n)

	e.waitAll("retrying after a refused connection", 30*time.Second, func(m *models.MailMessage) bool {
		return m.Status == models.MailRetrying && m.Attempts >= 1 && strings.Contains(m.LastError, "dial")
	})
	smtp.Refuse(451, "Try again later")
	smtp.Restart()
	// The reply's text, not its code alone: "451" may be part of the port in the dial error.
	ms := e.waitAll("retrying after 451", 30*time.Second, func(m *models.MailMessage) bool {
		return m.Status == models.MailRetrying && strings.Contains(m.LastError, "451 \"4.0.0 Try again later")
	})
	for _, m := range ms {
		if strings.Contains(m.LastError, password) {
			t.Fatalf("last_error shows the SMTP password: %q", m.LastError)
		}
	}
	if len(smtp.Messages()) != 0 {
		t.Fatal("a message got through a refusing server")
	}

	smtp.Accept()
	smtp.Wait(n, 30*time.Second)
	ms = e.waitAll("sent", 30*time.Second, func(m *models.MailMessage) bool { return m.Status == models.MailSent })
	// Nothing may run again: every job is finished.
	e.waitJobsFinished(5 * time.Second)
	got := smtp.Messages()
	byID := map[string]int{}
	for _, m := range got {
		byID[m.MessageID]++
	}
	for _, m := range ms {
		if byID[m.MessageID] != 1 {
			t.Errorf("message %d (%s) delivered %d times", m.ID, m.MessageID, byID[m.MessageID])
		}
		if m.Attempts < 3 || m.LastError != "" || m.SentAt == nil {
			t.Errorf("message %d after delivery: %d attempts, %q", m.ID, m.Attempts, m.LastError)
		}
	}
	if len(got) != n || len(byID) != n {
		t.Fatalf("%d deliveries of %d distinct messages, want %d", len(got), len(byID), n)
	}
}

func TestLastFailedAttemptMarksTheMessageFailed(t *testing.T) {
	t.Parallel()
	smtp := mailtest.Start(t)
	smtp.Refuse(451, "Mailbox busy")
	e := newEnv(t, smtp.URL(), 2)
	e.queue(1)
	m := e.waitAll("failed", 10*time.Second, func(m *models.MailMessage) bool { return m.Status == models.MailFailed })[0]
	if m.Attempts != 2 || !strings.Contains(m.LastError, "451 \"4.0.0 Mailbox busy") {
		t.Fatalf("%+v", m)
	}
	e.waitJobsFinished(5 * time.Second)
	if r := smtp.Refused(); r != 2 {
		t.Fatalf("%d attempts reached the server, want 2", r)
	}
}

func TestRefusedRecipientFailsAtOnce(t *testing.T) {
	t.Parallel()
	smtp := mailtest.Start(t)
	smtp.RefuseRecipient("user0@example.com", 550, "No such user")
	e := newEnv(t, smtp.URL(), 10)
	e.queue(1)
	m := e.waitAll("failed", 10*time.Second, func(m *models.MailMessage) bool { return m.Status == models.MailFailed })[0]
	if m.Attempts != 1 || !strings.Contains(m.LastError, "550") {
		t.Fatalf("%+v", m)
	}
}

// crashingSender stands for a bug in delivery.
type crashingSender struct{}

func (crashingSender) Send(context.Context, string, *models.MailMessage) error { panic("bug") }

// A sender that crashes (a bug) may have handed the message over before it did: the message
// shows its delivery as unknown, with why, and is not tried again.
func TestCrashingDeliveryIsVisible(t *testing.T) {
	t.Parallel()
	e := newEnvSender(t, crashingSender{}, 2)
	e.queue(1)
	m := e.waitAll("unknown", 10*time.Second, func(m *models.MailMessage) bool { return m.Status == models.MailUnknown })[0]
	if m.Attempts != 1 || !strings.Contains(m.LastError, "crashed") {
		t.Fatalf("%+v", m)
	}
	e.waitJobsFinished(5 * time.Second)
	if _, attempt := e.deliveryJob(); attempt != 1 {
		t.Fatalf("%d attempts", attempt)
	}
}

func TestSentMessageIsNeverSentAgain(t *testing.T) {
	t.Parallel()
	smtp := mailtest.Start(t)
	e := newEnv(t, smtp.URL(), 0)
	e.queue(1)
	smtp.Wait(1, 10*time.Second)
	m := e.waitAll("sent", 5*time.Second, func(m *models.MailMessage) bool { return m.Status == models.MailSent })[0]
	// The job runs again (River rescued it after a crash, say): nothing is sent.
	if err := e.outbox.Deliver(t.Context(), m.ID, 2, 20); err != nil {
		t.Fatal(err)
	}
	if n := len(smtp.Messages()); n != 1 {
		t.Fatalf("%d deliveries", n)
	}
	if again := e.messages()[0]; again.Attempts != 1 || again.Status != models.MailSent {
		t.Fatalf("the row changed: %+v", again)
	}
}

// deliveryJob is the state and attempt of the one delivery job.
func (e *env) deliveryJob() (state string, attempt int) {
	e.t.Helper()
	err := e.store.SQLDB().QueryRowContext(e.t.Context(),
		"SELECT state, attempt FROM river_job WHERE kind = 'mail.deliver'").Scan(&state, &attempt)
	if err != nil {
		e.t.Fatal(err)
	}
	return state, attempt
}

// failSentWrites makes the database refuse to record any message as sent, as a database
// restarting under the server does, until the returned function is called.
func (e *env) failSentWrites() (restore func()) {
	e.t.Helper()
	create := []string{`CREATE TRIGGER mail_sent_fails BEFORE UPDATE ON mail_messages
		WHEN NEW.status = 'sent' BEGIN SELECT RAISE(ABORT, 'the database is restarting'); END`}
	drop := "DROP TRIGGER mail_sent_fails"
	if e.store.Dialect() == migrations.Postgres {
		create = []string{`CREATE FUNCTION mail_sent_fails() RETURNS trigger LANGUAGE plpgsql AS
			$$ BEGIN RAISE EXCEPTION 'the database is restarting'; END $$`,
			`CREATE TRIGGER mail_sent_fails BEFORE UPDATE ON mail_messages FOR EACH ROW
			WHEN (NEW.status = 'sent') EXECUTE FUNCTION mail_sent_fails()`}
		drop = "DROP TRIGGER mail_sent_fails ON mail_messages"
	}
	for _, q := range create {
		if _, err := e.store.SQLDB().Exec(q); err != nil {
			e.t.Fatal(err)
		}
	}
	return func() {
		e.t.Helper()
		if _, err := e.store.SQLDB().Exec(drop); err != nil {
			e.t.Fatal(err)
		}
	}
}

// The SMTP server accepts a message but its status cannot be saved (the database is
// restarting): the job does not complete, and its next attempts only save the status, without
// sending again. Once the database is back the message shows sent, by its first attempt.
func TestUnsavedStatusIsRepairedWithoutSendingAgain(t *testing.T) {
	t.Parallel()
	smtp := mailtest.Start(t)
	e := newEnv(t, smtp.URL(), 0)
	restore := e.failSentWrites()
	e.queue(1)
	smtp.Wait(1, 10*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		state, attempt := e.deliveryJob()
		if state == "completed" {
			t.Fatal("the job completed while the message's status was not saved")
		}
		if attempt >= 3 {
			break // two attempts at saving the status failed too
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job is %s after %d attempts", state, attempt)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if m := e.messages()[0]; m.Status == models.MailSent {
		t.Fatalf("sent while the database refused it: %+v", m)
	}
	restore()
	m := e.waitAll("sent", 10*time.Second, func(m *models.MailMessage) bool { return m.Status == models.MailSent })[0]
	e.waitJobsFinished(10 * time.Second)
	if state, _ := e.deliveryJob(); state != "completed" {
		t.Fatalf("the delivery job is %s", state)
	}
	if n := len(smtp.Messages()); n != 1 {
		t.Fatalf("%d deliveries of one message", n)
	}
	if m.Attempts != 1 || m.SentAt == nil || m.LastError != "" {
		t.Fatalf("the repaired message: %+v", m)
	}
}

// A server is killed between the SMTP server's acceptance and saving it (here: the database
// refuses the save, then the process and what it knew are gone); its job is left running. The
// next server rescues the job and does not send the message again: the outbox shows that its
// delivery is unknown.
func TestCrashBetweenSendAndStatusSendsNothingAgain(t *testing.T) {
	t.Parallel()
	smtp := mailtest.Start(t)
	e := newBareEnv(t)
	e.outbox = e.server(smtpSender(t, smtp.URL()), 0, false)
	e.queue(1)
	restore := e.failSentWrites()
	if err := e.outbox.Deliver(t.Context(), e.messages()[0].ID, 1, mail.DefaultMaxAttempts); err == nil {
		t.Fatal("the attempt said it saved its outcome")
	}
	smtp.Wait(1, 10*time.Second)
	restore()
	storetest.AbandonJobs(t, e.store, "mail.deliver", jobs.RescueAfter+time.Minute)

	e.outbox = e.server(smtpSender(t, smtp.URL()), 0, true) // the next server
	e.waitJobsFinished(time.Minute)
	m := e.messages()[0]
	if m.Status != models.MailUnknown || m.Attempts != 1 || m.SentAt != nil || !strings.Contains(m.LastError, "may have") {
		t.Fatalf("after the crash: %+v", m)
	}
	if n := len(smtp.Messages()); n != 1 {
		t.Fatalf("%d deliveries of one message", n)
	}
}

func TestWithoutSMTPMessagesAreHeld(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "", 0)
	if e.outbox.Delivering() {
		t.Fatal("delivering without a sender")
	}
	e.queue(2)
	// Outside a transaction too: the outbox opens one.
	if err := e.outbox.QueueDisabledNotices(t.Context(), e.store, []mail.DisabledNotice{{AccountID: e.account.ID, To: "bob@example.com"}}); err != nil {
		t.Fatal(err)
	}
	ms := e.messages()
	if len(ms) != 3 {
		t.Fatalf("%d messages", len(ms))
	}
	for _, m := range ms {
		if m.Status != models.MailHeld || m.Attempts != 0 {
			t.Errorf("message %d: %s", m.ID, m.Status)
		}
	}
	const link = "http://onramp.test/myvpn/activate/token-0"
	if ms[0].Kind != models.MailDisabledNotice || ms[2].Kind != models.MailInvitation ||
		!strings.Contains(ms[2].Text(), link) || !strings.Contains(ms[2].HTML(), `href="`+link+`"`) {
		t.Fatalf("newest first, with bodies: %+v", ms)
	}
	// Until it is sent, the link is kept apart from the bodies.
	if ms[2].Secret != link || strings.Contains(ms[2].TextBody+ms[2].HTMLBody, link) {
		t.Fatalf("held invitation: secret %q, bodies %q", ms[2].Secret, ms[2].TextBody)
	}
	if n := e.jobs(); n != 0 {
		t.Fatalf("%d delivery jobs without SMTP", n)
	}
}

func TestOutboxIsScopedToTheAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "", 0)
	e.queue(1)
	other := models.NewAccount("globex")
	if err := e.store.CreateAccount(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	id := e.messages()[0].ID
	if _, err := e.outbox.Get(t.Context(), &models.Admin{AccountID: other.ID}, id); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another account's message: %v", err)
	}
	page, err := e.outbox.List(t.Context(), &models.Admin{AccountID: other.ID}, 0)
	if err != nil || len(page.Messages) != 0 {
		t.Fatalf("another account's list: %v %v", page, err)
	}
}

func TestParseSMTPURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		url  string
		want mail.SMTPConfig
	}{
		{"smtp://mail.example.com", mail.SMTPConfig{Host: "mail.example.com", Port: 587, TLS: mail.TLSStartTLS}},
		{"smtp://u%40x:p%3Aw@mail.example.com:2525", mail.SMTPConfig{Host: "mail.example.com", Port: 2525, TLS: mail.TLSStartTLS, Username: "u@x", Password: "p:w"}},
		{"smtps://u:p@mail.example.com", mail.SMTPConfig{Host: "mail.example.com", Port: 465, TLS: mail.TLSImplicit, Username: "u", Password: "p"}},
		{"smtp://localhost:25?tls=none", mail.SMTPConfig{Host: "localhost", Port: 25, TLS: mail.TLSNone}},
		{"smtp://[::1]:25?tls=opportunistic&auth=login", mail.SMTPConfig{Host: "::1", Port: 25, TLS: mail.TLSOpportunistic, Auth: "login"}},
		{"smtp://h?tls=TLS", mail.SMTPConfig{Host: "h", Port: 587, TLS: mail.TLSImplicit}},
	} {
		got, err := mail.ParseSMTPURL(c.url)
		if err != nil || got != c.want {
			t.Errorf("%s: %+v %v", c.url, got, err)
		}
	}
	for _, bad := range []string{"http://h", "smtp://", "smtp://u:secretpw@h:99999", "smtp://u:secretpw@h?tls=maybe",
		"smtp://u:secretpw@h?auth=carrier-pigeon", "smtp://u:secretpw@h?tsl=none", "smtp://u:secretpw@h:port", "%zz"} {
		_, err := mail.ParseSMTPURL(bad)
		if err == nil {
			t.Errorf("%s accepted", bad)
		} else if strings.Contains(err.Error(), "secretpw") {
			t.Errorf("%s: the error shows the password: %v", bad, err)
		}
	}
}
