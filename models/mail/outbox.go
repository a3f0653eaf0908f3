package mail

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"onramp/migrations"
	"onramp/models"
	"onramp/models/store"
)

// PageSize is how many messages a page of the outbox holds.
const PageSize = 50

// DefaultMaxAttempts is how many times a message is tried before it is marked failed. With
// River's backoff (attempt⁴ seconds, ±10%) the last of 20 attempts comes about six and a half
// days after the first: an SMTP outage over a long weekend loses nothing.
const DefaultMaxAttempts = 20

// queueName is River's queue for mail, so that mail never waits behind other kinds of job.
const queueName = "mail"

// Config tunes an Outbox.
type Config struct {
	// From is the From address (MAIL_FROM); its domain also names the Message-IDs.
	From string
	// Sender delivers messages. Nil means no SMTP server is configured: every message is kept
	// with status held, for admins to read (and click) in the outbox.
	Sender Sender
	// MaxAttempts is how many delivery attempts a message gets; 0 means DefaultMaxAttempts.
	MaxAttempts int
	// RetryDelay replaces River's exponential backoff by a fixed delay. Tests use a few
	// milliseconds; production leaves it 0.
	RetryDelay time.Duration
	// PollInterval is how often the queue looks for due messages; 0 means one second.
	PollInterval time.Duration
	// Workers is how many messages are delivered at once; 0 means 4.
	Workers int
	Logger  *slog.Logger
	// Jobs are other services' background jobs, run by the outbox's River client. There is one
	// client per database on purpose: River's rescuer discards a stuck job whose kind its own
	// client has no worker for, so a second client would throw away the first one's jobs.
	Jobs []Jobs
}

// Jobs is a service with background work on the shared River client (models/codes, say).
type Jobs interface {
	// RegisterJobs adds the service's workers and returns the queues they run on and the
	// service's periodic jobs.
	RegisterJobs(w *river.Workers) (map[string]river.QueueConfig, []*river.PeriodicJob)
}

// Outbox queues email in the transaction of the change that causes it and delivers it in the
// background with River, retrying with backoff. Every message is a mail_messages row whose
// status admins see; the River job only names that row.
type Outbox struct {
	store       *store.Store
	renderer    Renderer
	sender      Sender
	from        string
	domain      string
	maxAttempts int
	log         *slog.Logger
	river       *river.Client[*sql.Tx]
}

// NewOutbox builds the outbox and its River client (not started: see Start).
func NewOutbox(s *store.Store, r Renderer, c Config) (*Outbox, error) {
	addr, err := mail.ParseAddress(c.From)
	if err != nil {
		return nil, fmt.Errorf("mail: the From address %q is not valid (MAIL_FROM): %w", c.From, err)
	}
	o := &Outbox{
		store:       s,
		renderer:    r,
		sender:      c.Sender,
		from:        addr.String(),
		domain:      addr.Address[strings.LastIndexByte(addr.Address, '@')+1:],
		maxAttempts: c.MaxAttempts,
		log:         c.Logger,
	}
	if o.maxAttempts <= 0 {
		o.maxAttempts = DefaultMaxAttempts
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &deliverWorker{o: o})
	queues := map[string]river.QueueConfig{}
	var periodic []*river.PeriodicJob
	for _, j := range c.Jobs {
		q, p := j.RegisterJobs(workers)
		for name, qc := range q {
			queues[name] = qc
		}
		periodic = append(periodic, p...)
	}
	poll := c.PollInterval
	if poll <= 0 {
		poll = time.Second
	}
	n := c.Workers
	if n <= 0 {
		n = 4
	}
	queues[queueName] = river.QueueConfig{MaxWorkers: n}
	rc := &river.Config{
		Queues:            queues,
		Workers:           workers,
		PeriodicJobs:      periodic,
		MaxAttempts:       o.maxAttempts,
		FetchPollInterval: poll,
		FetchCooldown:     min(poll, 100*time.Millisecond),
		// Deliveries still running at shutdown get this long, then their context is cancelled
		// and River tries them again after the restart.
		SoftStopTimeout: 10 * time.Second,
		ErrorHandler:    crashHandler{o},
		Logger:          o.log,
	}
	if c.RetryDelay > 0 {
		rc.RetryPolicy = fixedDelay(c.RetryDelay)
	}
	o.river, err = river.NewClient(migrations.RiverDriver(s.SQLDB(), s.Dialect()), rc)
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	return o, nil
}

// fixedDelay is a retry policy without backoff, for tests.
type fixedDelay time.Duration

func (d fixedDelay) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(time.Duration(d)) }

// Start begins delivering queued messages in the background. Without a Sender it still runs,
// to mark as held any message queued by an earlier run that had one.
func (o *Outbox) Start(ctx context.Context) error {
	// Only Stop ends the client: a cancelled request context must not.
	return o.river.Start(context.WithoutCancel(ctx))
}

// Stop waits for deliveries in progress, cancelling them when ctx ends first (River tries
// them again after a restart). Call it before the database closes.
func (o *Outbox) Stop(ctx context.Context) error {
	err := o.river.Stop(ctx)
	if err != nil && ctx.Err() != nil {
		hard, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = errors.Join(err, o.river.StopAndCancel(hard))
	}
	return err
}

// Queue is the River client, for services that insert their own jobs in their transactions
// (registered through Config.Jobs).
func (o *Outbox) Queue() *river.Client[*sql.Tx] { return o.river }

// Delivering reports whether an SMTP server is configured; without one messages are held.
func (o *Outbox) Delivering() bool { return o.sender != nil }

// From is the From address of every message.
func (o *Outbox) From() string { return o.from }

// QueueInvitations renders invitations and queues them in tx, the caller's transaction: the
// messages exist if and only if the change that caused them commits. Rows and delivery jobs are
// inserted in batches, so a bulk action over thousands of users costs a few statements.
func (o *Outbox) QueueInvitations(ctx context.Context, tx *store.Store, invs []Invitation) error {
	ms := make([]*models.MailMessage, len(invs))
	for i, inv := range invs {
		r, err := o.renderer.Invitation(ctx, inv)
		if err != nil {
			return fmt.Errorf("mail: render invitation: %w", err)
		}
		ms[i] = newMessage(models.MailInvitation, inv.AccountID, inv.SDPUserID, inv.To, r)
	}
	return o.queue(ctx, tx, ms)
}

// QueueDisabledNotices renders disabled-user notices and queues them in tx (see
// QueueInvitations).
func (o *Outbox) QueueDisabledNotices(ctx context.Context, tx *store.Store, ns []DisabledNotice) error {
	ms := make([]*models.MailMessage, len(ns))
	for i, n := range ns {
		r, err := o.renderer.DisabledNotice(ctx, n)
		if err != nil {
			return fmt.Errorf("mail: render disabled notice: %w", err)
		}
		ms[i] = newMessage(models.MailDisabledNotice, n.AccountID, n.SDPUserID, n.To, r)
	}
	return o.queue(ctx, tx, ms)
}

func newMessage(kind models.MailKind, accountID, userID int64, to string, r Rendered) *models.MailMessage {
	m := &models.MailMessage{AccountID: accountID, Kind: kind, ToEmail: to, Subject: r.Subject, TextBody: r.Text, HTMLBody: r.HTML}
	if userID != 0 {
		m.SDPUserID = &userID
	}
	return m
}

func (o *Outbox) queue(ctx context.Context, tx *store.Store, ms []*models.MailMessage) error {
	if len(ms) == 0 {
		return nil
	}
	sqlTx, ok := tx.SQLTx()
	if !ok {
		// Called outside a transaction: open one, so that rows and jobs still go together.
		return tx.Tx(ctx, func(tx *store.Store) error { return o.queue(ctx, tx, ms) })
	}
	status := models.MailQueued
	if o.sender == nil {
		status = models.MailHeld
	}
	for _, m := range ms {
		if m.AccountID == 0 || m.ToEmail == "" {
			return errors.New("mail: a message needs an account and a recipient")
		}
		m.MessageID = o.newMessageID()
		m.Status = status
	}
	if err := tx.CreateMailMessages(ctx, ms); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	if o.sender == nil {
		return nil
	}
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return o.deliverLater(ctx, sqlTx, ids)
}

// deliverLater inserts the delivery jobs of messages in the caller's transaction.
func (o *Outbox) deliverLater(ctx context.Context, sqlTx *sql.Tx, ids []int64) error {
	for start := 0; start < len(ids); start += 1000 {
		batch := ids[start:min(start+1000, len(ids))]
		jobs := make([]river.InsertManyParams, len(batch))
		for i, id := range batch {
			jobs[i] = river.InsertManyParams{Args: deliverArgs{MailMessageID: id}, InsertOpts: &river.InsertOpts{Queue: queueName}}
		}
		if _, err := o.river.InsertManyTx(ctx, sqlTx, jobs); err != nil {
			return fmt.Errorf("mail: queue delivery: %w", err)
		}
	}
	return nil
}

// Held counts the actor's account's held messages, and of them those SendHeld would send.
func (o *Outbox) Held(ctx context.Context, actor *models.Admin) (held, sendable int64, err error) {
	return o.store.CountHeldMail(ctx, actor.AccountID, time.Now().UTC())
}

// ErrNoSMTP: held messages cannot be sent while no SMTP server is configured.
var ErrNoSMTP = fmt.Errorf("%w: no SMTP server is configured (SMTP_URL)", models.ErrConflict)

// SendHeld queues for delivery the held messages of the actor's account that still make sense
// now that an SMTP server is configured: each user's newest invitation while its activation
// link works, and each still-disabled user's newest disabled notice. The others stay held. It
// returns how many it queued, and writes a Held Mail Sent event.
func (o *Outbox) SendHeld(ctx context.Context, actor *models.Admin, ip string) (int, error) {
	if o.sender == nil {
		return 0, ErrNoSMTP
	}
	var n int
	err := o.store.Tx(ctx, func(tx *store.Store) error {
		ids, err := tx.QueueHeldMail(ctx, actor.AccountID, time.Now().UTC())
		if err != nil || len(ids) == 0 {
			return err
		}
		n = len(ids)
		sqlTx, ok := tx.SQLTx()
		if !ok {
			return errors.New("mail: SendHeld outside a transaction")
		}
		if err := o.deliverLater(ctx, sqlTx, ids); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.NewEvent(&actor.AccountID, models.EventAdmin, models.SubHeldMailSent,
			models.AdminActor(actor, ip), "", map[string]string{"messages": strconv.Itoa(n)}))
	})
	return n, err
}

// newMessageID makes an RFC 5322 Message-ID, fixed when the message is queued so that every
// attempt carries the same one and receivers can drop a copy.
func (o *Outbox) newMessageID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "<" + hex.EncodeToString(b) + "@" + o.domain + ">"
}

// List returns a page of the actor's account's messages, newest first, after the given id.
func (o *Outbox) List(ctx context.Context, actor *models.Admin, after int64) (store.MailPage, error) {
	return o.store.ListMailMessages(ctx, actor.AccountID, after, PageSize)
}

// Get returns one message of the actor's account.
func (o *Outbox) Get(ctx context.Context, actor *models.Admin, id int64) (*models.MailMessage, error) {
	return o.store.MailMessage(ctx, actor.AccountID, id)
}
