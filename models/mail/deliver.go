package mail

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"onramp/models"
	"onramp/models/store"
)

// deliverArgs is the River job that delivers one message. It names the row only: bodies hold
// one-time links, which have no business in the jobs table or River's logs.
type deliverArgs struct {
	MailMessageID int64 `json:"mail_message_id"`
}

func (deliverArgs) Kind() string { return "mail.deliver" }

type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	o *Outbox
}

// Work makes one attempt. A panic is recorded on the message like any failed attempt, so that
// even a bug leaves the message visible (failed after the last attempt) rather than stuck as
// retrying.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = w.o.crashed(ctx, job, p)
		}
	}()
	return w.o.deliver(ctx, job.Args.MailMessageID, job.Attempt, job.MaxAttempts)
}

// deliver makes one attempt at sending a message and records its outcome on the row. An error
// makes River try again later (with backoff) until the last attempt.
func (o *Outbox) deliver(ctx context.Context, id int64, attempt, maxAttempts int) error {
	m, err := o.store.MailMessageForDelivery(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return river.JobCancel(err) // its account was deleted: nothing left to send
	}
	if err != nil {
		return err
	}
	// Log lines name the message, never its recipient's link or its body.
	log := o.log.With("mail_id", m.ID, "kind", string(m.Kind), "attempt", attempt)
	switch {
	case m.Status == models.MailSent:
		return nil // never send twice (a job run again after a crash, say)
	case o.sender == nil:
		// Queued while SMTP was configured, delivered after a restart without it.
		return o.save(ctx, func(tx *store.Store) error { return tx.HoldMail(ctx, m.ID) })
	}

	sendErr := o.sender.Send(ctx, o.from, m)
	if sendErr == nil {
		err := o.save(ctx, func(tx *store.Store) error { return tx.MailSent(ctx, m.ID, attempt, time.Now().UTC()) })
		if err != nil {
			// The server has the message: failing the job would send it again. The row stays
			// behind (queued or retrying) and says so in the log.
			log.Error("mail sent but its status was not saved", "error", err)
		} else {
			log.Info("mail sent")
		}
		return nil
	}

	text := errorText(sendErr)
	refused := errors.Is(sendErr, ErrRecipientRefused)
	status := models.MailRetrying
	if refused || attempt >= maxAttempts {
		status = models.MailFailed
	}
	if err := o.save(ctx, func(tx *store.Store) error { return tx.MailAttemptFailed(ctx, m.ID, status, attempt, text) }); err != nil {
		log.Error("saving a failed mail attempt", "error", err)
	}
	log.Warn("mail delivery failed", "status", string(status), "error", text)
	// River records and logs the returned error: it is the cleaned-up text, not the original.
	if refused {
		return river.JobCancel(errors.New(text)) // trying again would get the same answer
	}
	return errors.New(text)
}

// crashed records a panicked attempt on its message and returns the error River retries on.
func (o *Outbox) crashed(ctx context.Context, job *river.Job[deliverArgs], panicVal any) error {
	status := models.MailRetrying
	if job.Attempt >= job.MaxAttempts {
		status = models.MailFailed
	}
	id := job.Args.MailMessageID
	o.log.Error("mail delivery crashed", "mail_id", id, "attempt", job.Attempt, "panic", fmt.Sprint(panicVal))
	err := o.save(ctx, func(tx *store.Store) error {
		return tx.MailAttemptFailed(ctx, id, status, job.Attempt, "internal error: the delivery crashed (see the server log)")
	})
	if err != nil {
		o.log.Error("saving a crashed mail attempt", "mail_id", id, "error", err)
	}
	return fmt.Errorf("mail: delivery of message %d crashed", id)
}

// save records an attempt on an unsent message. It runs in a transaction of its own: on SQLite
// that takes the write lock at BEGIN and waits for it, where a lone UPDATE could fail at once
// beside River's writes.
func (o *Outbox) save(ctx context.Context, record func(tx *store.Store) error) error {
	err := o.store.Tx(ctx, record)
	if errors.Is(err, models.ErrNotFound) {
		return nil // sent meanwhile, or deleted with its account
	}
	return err
}

// maxErrorLen bounds last_error: enough for an SMTP reply, not a wall of text.
const maxErrorLen = 500

// errorText is the one-line form of a delivery error shown in the outbox.
func errorText(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > maxErrorLen {
		s = s[:maxErrorLen]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}
