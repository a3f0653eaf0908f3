package models

import (
	"html"
	"strings"
	"time"
)

// MailKind is what an email is about.
type MailKind string

const (
	MailInvitation     MailKind = "invitation"
	MailDisabledNotice MailKind = "disabled_notice"
	MailCode           MailKind = "registration_code" // a registration code, its secret
)

// Label is the kind as the outbox shows it.
func (k MailKind) Label() string {
	switch k {
	case MailDisabledNotice:
		return "Disabled notice"
	case MailCode:
		return "Registration code"
	}
	return "Invitation"
}

// MailStatus is where an email is on its way out.
type MailStatus string

const (
	MailQueued   MailStatus = "queued"   // waiting for its first delivery attempt
	MailSending  MailStatus = "sending"  // an attempt is handing it to the SMTP server
	MailSent     MailStatus = "sent"     // the SMTP server accepted it
	MailRetrying MailStatus = "retrying" // an attempt failed; another is scheduled
	MailFailed   MailStatus = "failed"   // the last attempt failed, or the recipient was refused
	MailHeld     MailStatus = "held"     // no SMTP server is configured: kept for the outbox
	// MailUnknown: an attempt stopped (the server crashed) while handing it to the SMTP server,
	// so the server may have it. It is never sent again on its own: an admin decides.
	MailUnknown MailStatus = "unknown"
)

// Label is the status as the outbox shows it.
func (s MailStatus) Label() string {
	switch s {
	case MailSending:
		return "Sending"
	case MailSent:
		return "Sent"
	case MailRetrying:
		return "Retrying"
	case MailFailed:
		return "Failed"
	case MailHeld:
		return "Held"
	case MailUnknown:
		return "Delivery unknown"
	}
	return "Queued"
}

// InvitationLabel is the activation state of an invited user whose newest invitation is in
// state s: the Users list and the user page tell a held invitation (no SMTP server) from one on
// its way, delivered or failed.
func InvitationLabel(s MailStatus) string {
	switch s {
	case MailHeld:
		return "Invitation held"
	case MailQueued, MailSending:
		return "Invitation queued"
	case MailRetrying:
		return "Invitation retrying"
	case MailSent:
		return "Invitation sent"
	case MailFailed:
		return "Invitation failed"
	case MailUnknown:
		return "Invitation delivery unknown"
	}
	return ActivationInvitationSent.Label()
}

// UserMail is a user's newest message of a kind: its id (for a link to the outbox) and status.
type UserMail struct {
	ID        int64
	SDPUserID int64
	Status    MailStatus
}

// MailMessage is one rendered email and its delivery state. A message that carries a secret
// (an activation link) stores its bodies with MailSecretMark in its place and the secret on its
// own, until the message is sent: then the secret is cleared, so that a sent message keeps no
// working link at rest. Bodies and secret are shown to account admins only and never logged.
type MailMessage struct {
	ID        int64
	AccountID int64
	SDPUserID *int64 // nil once the user is deleted
	Kind      MailKind
	ToEmail   string
	Subject   string
	TextBody  string
	HTMLBody  string
	Secret    string // what MailSecretMark stands for in the bodies; "" once sent
	MessageID string // RFC 5322 Message-ID with its angle brackets, the same on every attempt
	Status    MailStatus
	Attempts  int
	LastError string
	CreatedAt time.Time
	UpdatedAt time.Time
	SentAt    *time.Time
	// BodyPurgedAt is when data retention emptied the bodies of this sent message (nil while it
	// has them); the rest of the row stays.
	BodyPurgedAt *time.Time
}

// MailSecretMark stands for a message's secret in its stored bodies. It is made of characters
// that neither HTML nor URL escaping changes.
const MailSecretMark = "ONRAMP_SECRET_MARK"

// MailSecretRemoved replaces the secret in a message sent before it is shown.
const MailSecretRemoved = "[removed once sent]"

// Text is the plain-text body with its secret, as mailed (or MailSecretRemoved once sent).
func (m *MailMessage) Text() string {
	return strings.ReplaceAll(m.TextBody, MailSecretMark, m.secret())
}

// HTML is the HTML body with its secret, as mailed (or MailSecretRemoved once sent).
func (m *MailMessage) HTML() string {
	return strings.ReplaceAll(m.HTMLBody, MailSecretMark, html.EscapeString(m.secret()))
}

// MailCodeHidden stands for a registration code where the console shows a message: only its
// user sees it in the mail, as only its generator saw it on screen.
const MailCodeHidden = "[registration code, not shown here]"

// ConsoleText is the plain-text body as the outbox shows it: with its activation link (an admin
// may follow it for a user without mail), never with a registration code.
func (m *MailMessage) ConsoleText() string {
	if m.Kind == MailCode {
		return strings.ReplaceAll(m.TextBody, MailSecretMark, MailCodeHidden)
	}
	return m.Text()
}

// ConsoleHTML is the HTML body as the outbox shows it (see ConsoleText).
func (m *MailMessage) ConsoleHTML() string {
	if m.Kind == MailCode {
		return strings.ReplaceAll(m.HTMLBody, MailSecretMark, html.EscapeString(MailCodeHidden))
	}
	return m.HTML()
}

func (m *MailMessage) secret() string {
	if m.Secret == "" {
		return MailSecretRemoved
	}
	return m.Secret
}
