package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"onramp/models"
	"onramp/models/jobs"
	"onramp/models/metrics"
	"onramp/models/store"
)

// PageSize is how many messages a page of the outbox holds.
const PageSize = 50

// DefaultMaxAttempts is how many times a message is tried before it is marked failed. With
// River's backoff (attempt⁴ seconds, ±10%) the last of 20 attempts comes about six and a half
// days after the first: an SMTP outage over a long weekend loses nothing.
const DefaultMaxAttempts = 20

// settleAttempts are River attempts a delivery job has beyond its message's: after the last
// delivery attempt they only save an outcome that could not be saved, or settle an attempt
// killed during the hand-off (deliver.go), so that no message is left showing sending.
const settleAttempts = 3

// Config tunes an Outbox.
type Config struct {
	// From is the From address (MAIL_FROM); its domain also names the Message-IDs.
	From string
	// Sender delivers messages. Nil means no SMTP server is configured: every message is kept
	// with status held, for admins to read (and click) in the outbox.
	Sender Sender
	// MaxAttempts is how many delivery attempts a message gets; 0 means DefaultMaxAttempts.
	MaxAttempts int
	Logger      *slog.Logger
	// Metrics counts the delivery attempts and times the deliveries.
	Metrics *metrics.Metrics
}

// Outbox queues email in the transaction of the change that causes it and delivers it in the
// background as River jobs, retrying with backoff. Every message is a mail_messages row whose
// status admins see; the job only names that row.
type Outbox struct {
	store       *store.Store
	jobs        *jobs.Jobs
	renderer    Renderer
	sender      Sender
	from        string
	domain      string
	maxAttempts int
	log         *slog.Logger
	unsaved     unsaved // outcomes of hand-offs not saved yet (deliver.go)
	metrics     *metrics.Metrics
}

// NewOutbox builds the outbox and registers its delivery worker with j.
func NewOutbox(s *store.Store, j *jobs.Jobs, r Renderer, c Config) (*Outbox, error) {
	addr, err := mail.ParseAddress(c.From)
	if err != nil {
		return nil, fmt.Errorf("mail: the From address %q is not valid (MAIL_FROM): %w", c.From, err)
	}
	o := &Outbox{
		store:       s,
		jobs:        j,
		renderer:    r,
		sender:      c.Sender,
		from:        addr.String(),
		domain:      addr.Address[strings.LastIndexByte(addr.Address, '@')+1:],
		maxAttempts: c.MaxAttempts,
		log:         c.Logger,
		metrics:     c.Metrics,
	}
	if o.maxAttempts <= 0 {
		o.maxAttempts = DefaultMaxAttempts
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	jobs.AddWorker(j, &deliverWorker{o: o})
	return o, nil
}

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
		link := inv.ActivationURL
		inv.ActivationURL = models.MailSecretMark // the link is kept apart, until the message is sent
		r, err := o.renderer.Invitation(ctx, inv)
		if err != nil {
			return fmt.Errorf("mail: render invitation: %w", err)
		}
		ms[i] = newMessage(models.MailInvitation, inv.AccountID, inv.SDPUserID, inv.To, r)
		ms[i].Secret = link
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

// QueueCodes renders registration code emails and queues them in tx (see QueueInvitations).
// The code is the message's secret: each place of the bodies that holds it holds
// models.MailSecretMark instead, until the message is sent.
func (o *Outbox) QueueCodes(ctx context.Context, tx *store.Store, cms []CodeMail) error {
	ms := make([]*models.MailMessage, len(cms))
	for i, m := range cms {
		code := m.Code
		m.Code = models.MailSecretMark
		m.EnrollLink = strings.ReplaceAll(m.EnrollLink, code, models.MailSecretMark)
		m.EnrollPage = strings.ReplaceAll(m.EnrollPage, code, models.MailSecretMark)
		r, err := o.renderer.Code(ctx, m)
		if err != nil {
			return fmt.Errorf("mail: render registration code: %w", err)
		}
		ms[i] = newMessage(models.MailCode, m.AccountID, m.SDPUserID, m.To, r)
		ms[i].Secret = code
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
	if !tx.InTx() {
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
	return o.deliverLater(ctx, tx, ids)
}

// deliverLater inserts the delivery jobs of messages in tx, the caller's transaction.
func (o *Outbox) deliverLater(ctx context.Context, tx *store.Store, ids []int64) error {
	params := make([]river.InsertManyParams, len(ids))
	opts := &river.InsertOpts{Queue: jobs.QueueMail, MaxAttempts: o.maxAttempts + settleAttempts}
	for i, id := range ids {
		params[i] = river.InsertManyParams{Args: deliverArgs{MailMessageID: id}, InsertOpts: opts}
	}
	return o.jobs.InsertManyTx(ctx, tx, params)
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
		if err := o.deliverLater(ctx, tx, ids); err != nil {
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

// Page is one page of an account's messages, newest first.
type Page struct {
	Messages []models.MailMessage // without their bodies
	// NextAfter is the id to pass as after for the next page, or 0 on the last page.
	NextAfter int64
}

// List returns a page of the actor's account's messages, newest first, after the given id.
func (o *Outbox) List(ctx context.Context, actor *models.Admin, after int64) (Page, error) {
	p, err := o.store.ListMailMessages(ctx, actor.AccountID, after, PageSize)
	return Page(p), err
}

// Get returns one message of the actor's account.
func (o *Outbox) Get(ctx context.Context, actor *models.Admin, id int64) (*models.MailMessage, error) {
	return o.store.MailMessage(ctx, actor.AccountID, id)
}
