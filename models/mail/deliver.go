package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
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

// Work makes one attempt. A panic outside the hand-off to the SMTP server is recorded on the
// message like any failed attempt, so that even a bug leaves the message visible (failed after
// the last attempt) rather than stuck as queued.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = w.o.crashed(ctx, job.Args.MailMessageID, job.Attempt, p)
		}
	}()
	return w.o.deliver(ctx, job.Args.MailMessageID, job.Attempt, w.o.maxAttempts)
}

// Delivery is exactly once, whatever stops an attempt. An attempt commits the message as
// sending before it hands it to the SMTP server, and its job does not complete until the
// outcome (sent, or why not) is saved:
//
//   - an outcome that could not be saved (the database is restarting) is kept in memory, and
//     the job's next attempt saves it without sending again;
//   - a message found sending with no such outcome was being handed over when its server
//     stopped (kill -9, power loss): the SMTP server may have it, so it is never sent again on
//     its own but shown as unknown, for an admin to decide.
//
// The SMTP protocol's own window remains: a connection lost after the server's acceptance but
// before its reply reaches Onramp looks like a failure and the message is tried again; every
// attempt carries the same Message-ID, by which receivers drop the copy.

// unknownWhy is what the outbox says of a message whose delivery is unknown.
const unknownWhy = "It may have been delivered, so it is not sent again on its own. Ask the recipient; an invitation that did not arrive can be sent anew with Resend invitation."

// outcome is how an attempt's hand-off to the SMTP server ended.
type outcome struct {
	attempt int
	status  models.MailStatus // sent, retrying, failed or unknown
	sentAt  time.Time         // when the server accepted it (sent)
	why     string            // why not, shown in the outbox
}

// unsaved holds the outcomes this process could not save yet, by message id.
type unsaved struct {
	mu sync.Mutex
	m  map[int64]outcome
}

func (u *unsaved) get(id int64) (outcome, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	out, ok := u.m[id]
	return out, ok
}

func (u *unsaved) put(id int64, out outcome) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = map[int64]outcome{}
	}
	u.m[id] = out
}

func (u *unsaved) drop(id int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.m, id)
}

// deliver makes one attempt at sending a message and records its outcome on the row. An error
// makes River try again later (with backoff).
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
	if out, ok := o.unsaved.get(m.ID); ok {
		return o.record(ctx, m.ID, out, log) // handed over by an earlier attempt: save only
	}
	switch m.Status {
	case models.MailSent, models.MailUnknown:
		return nil // never send twice (a job run again after a crash, say)
	case models.MailSending:
		log.Warn("mail delivery unknown: an attempt stopped while handing it to the SMTP server; not sent again")
		return o.save(ctx, func(tx *store.Store) error {
			return tx.MailDeliveryUnknown(ctx, m.ID, "The server stopped while handing this message to the SMTP server. "+unknownWhy)
		})
	}
	if o.sender == nil {
		// Queued while SMTP was configured, delivered after a restart without it.
		return o.save(ctx, func(tx *store.Store) error { return tx.HoldMail(ctx, m.ID) })
	}
	err = o.store.Tx(ctx, func(tx *store.Store) error { return tx.MailSending(ctx, m.ID, attempt) })
	if errors.Is(err, models.ErrNotFound) {
		return nil // held or failed: nothing to send
	}
	if err != nil {
		return err // nothing was handed over
	}
	out := o.handOver(ctx, m, attempt, maxAttempts, log)
	o.metrics.MailAttempt(out.status, m.CreatedAt, out.sentAt)
	o.unsaved.put(m.ID, out)
	return o.record(ctx, m.ID, out, log)
}

// handOver gives m to the SMTP server. A panic of the sender leaves the outcome unknown: the
// message may have gone through.
func (o *Outbox) handOver(ctx context.Context, m *models.MailMessage, attempt, maxAttempts int, log *slog.Logger) (out outcome) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("mail delivery crashed", "panic", fmt.Sprint(p))
			out = outcome{attempt: attempt, status: models.MailUnknown,
				why: "Internal error: the delivery crashed while handing this message to the SMTP server (see the server log). " + unknownWhy}
		}
	}()
	err := o.sender.Send(ctx, o.from, m)
	if err == nil {
		return outcome{attempt: attempt, status: models.MailSent, sentAt: time.Now().UTC()}
	}
	out = outcome{attempt: attempt, status: models.MailRetrying, why: errorText(err)}
	if errors.Is(err, ErrRecipientRefused) || attempt >= maxAttempts {
		out.status = models.MailFailed // trying again would get the same answer, or no attempt is left
	}
	return out
}

// record saves the outcome of a hand-off and gives River the job's result. While the outcome
// is not saved the job does not complete: it is tried again, and that attempt only saves it.
// The save outlives the attempt's context by a little: a shutdown or a timeout that ends the
// attempt after the hand-off must not leave behind what it knows.
func (o *Outbox) record(ctx context.Context, id int64, out outcome, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := o.save(ctx, func(tx *store.Store) error {
		switch out.status {
		case models.MailSent:
			return tx.MailSent(ctx, id, out.attempt, out.sentAt)
		case models.MailUnknown:
			return tx.MailDeliveryUnknown(ctx, id, out.why)
		}
		return tx.MailAttemptFailed(ctx, id, out.status, out.attempt, out.why)
	})
	if err != nil {
		log.Error("the outcome of a mail delivery was not saved; the next attempt saves it without sending again",
			"status", string(out.status), "error", err)
		return fmt.Errorf("mail: saving the outcome of message %d: %w", id, err)
	}
	o.unsaved.drop(id)
	switch out.status {
	case models.MailSent:
		log.Info("mail sent")
		return nil
	case models.MailRetrying:
		log.Warn("mail delivery failed", "status", string(out.status), "error", out.why)
		// River records and logs the returned error: it is the cleaned-up text, not the original.
		return errors.New(out.why)
	}
	log.Warn("mail delivery failed", "status", string(out.status), "error", out.why)
	return river.JobCancel(errors.New(out.why)) // failed for good, or unknown: never again
}

// crashed records an attempt that panicked outside the hand-off and returns the error River
// retries on.
func (o *Outbox) crashed(ctx context.Context, id int64, attempt int, panicVal any) error {
	o.log.Error("mail delivery crashed", "mail_id", id, "attempt", attempt, "panic", fmt.Sprint(panicVal))
	err := fmt.Errorf("mail: delivery of message %d crashed", id)
	if _, ok := o.unsaved.get(id); ok {
		return err // handed over: the next attempt saves the outcome
	}
	status := models.MailRetrying
	if attempt >= o.maxAttempts {
		status, err = models.MailFailed, river.JobCancel(err)
	}
	serr := o.save(ctx, func(tx *store.Store) error {
		return tx.MailAttemptCrashed(ctx, id, status, attempt, "internal error: the delivery crashed (see the server log)")
	})
	if serr != nil {
		o.log.Error("saving a crashed mail attempt", "mail_id", id, "error", serr)
	}
	return err
}

// save records an attempt on a message. It runs in a transaction of its own: on SQLite that
// takes the write lock at BEGIN and waits for it, where a lone UPDATE could fail at once beside
// River's writes.
func (o *Outbox) save(ctx context.Context, record func(tx *store.Store) error) error {
	err := o.store.Tx(ctx, record)
	if errors.Is(err, models.ErrNotFound) {
		return nil // recorded meanwhile, or deleted with its account
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
