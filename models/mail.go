package models

import "time"

// MailKind is what an email is about.
type MailKind string

const (
	MailInvitation     MailKind = "invitation"
	MailDisabledNotice MailKind = "disabled_notice"
)

// Label is the kind as the outbox shows it.
func (k MailKind) Label() string {
	if k == MailDisabledNotice {
		return "Disabled notice"
	}
	return "Invitation"
}

// MailStatus is where an email is on its way out.
type MailStatus string

const (
	MailQueued   MailStatus = "queued"   // waiting for its first delivery attempt
	MailSent     MailStatus = "sent"     // the SMTP server accepted it
	MailRetrying MailStatus = "retrying" // an attempt failed; another is scheduled
	MailFailed   MailStatus = "failed"   // the last attempt failed, or the recipient was refused
	MailHeld     MailStatus = "held"     // no SMTP server is configured: kept for the outbox
)

// Label is the status as the outbox shows it.
func (s MailStatus) Label() string {
	switch s {
	case MailSent:
		return "Sent"
	case MailRetrying:
		return "Retrying"
	case MailFailed:
		return "Failed"
	case MailHeld:
		return "Held"
	}
	return "Queued"
}

// MailMessage is one rendered email and its delivery state. The bodies may hold one-time links,
// so they are shown to account admins only and never logged.
type MailMessage struct {
	ID        int64
	AccountID int64
	SDPUserID *int64 // nil once the user is deleted
	Kind      MailKind
	ToEmail   string
	Subject   string
	TextBody  string
	HTMLBody  string
	MessageID string // RFC 5322 Message-ID with its angle brackets, the same on every attempt
	Status    MailStatus
	Attempts  int
	LastError string
	CreatedAt time.Time
	UpdatedAt time.Time
	SentAt    *time.Time
}
