package handlers_test

import (
	"context"
	"errors"
	"regexp"

	"onramp/models"
	"onramp/models/mail"
	"onramp/models/store"
)

var activationLinkRE = regexp.MustCompile(`http://onramp\.test/myvpn/activate/[A-Za-z0-9_-]+`)

// messagesTo lists the account's queued messages of a kind to an email, oldest first.
func (a *testApp) messagesTo(accountID int64, kind models.MailKind, email string) []models.MailMessage {
	a.t.Helper()
	var out []models.MailMessage
	var after int64
	for {
		page, err := a.store.ListMailMessages(context.Background(), accountID, after, 200)
		if err != nil {
			a.t.Fatal(err)
		}
		for _, m := range page.Messages {
			if m.Kind == kind && m.ToEmail == email {
				out = append([]models.MailMessage{m}, out...)
			}
		}
		if page.NextAfter == 0 {
			return out
		}
		after = page.NextAfter
	}
}

// invitationLinks returns the activation links mailed to an email, oldest first.
func (a *testApp) invitationLinks(accountID int64, email string) []string {
	var links []string
	for _, m := range a.messagesTo(accountID, models.MailInvitation, email) {
		full, err := a.store.MailMessage(context.Background(), accountID, m.ID)
		if err != nil {
			a.t.Fatal(err)
		}
		if l := activationLinkRE.FindString(full.TextBody); l != "" {
			links = append(links, l)
		}
	}
	return links
}

// disabledNotices counts the disabled notices mailed to an email.
func (a *testApp) disabledNotices(accountID int64, email string) int {
	return len(a.messagesTo(accountID, models.MailDisabledNotice, email))
}

var errQueueDown = errors.New("queue unavailable")

// failingOutbox queues through the real outbox but fails after a number of messages, to test
// that a bulk action rolls back whole.
type failingOutbox struct {
	real      *mail.Outbox
	failAfter int
	queued    int
}

func (o *failingOutbox) QueueInvitations(ctx context.Context, tx *store.Store, invs []mail.Invitation) error {
	if o.queued += len(invs); o.queued > o.failAfter {
		return errQueueDown
	}
	return o.real.QueueInvitations(ctx, tx, invs)
}

func (o *failingOutbox) QueueDisabledNotices(ctx context.Context, tx *store.Store, ns []mail.DisabledNotice) error {
	return o.real.QueueDisabledNotices(ctx, tx, ns)
}
