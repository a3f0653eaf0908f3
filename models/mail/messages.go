// Package mail owns outgoing email: the messages Onramp sends, a durable queue that is filled in
// the same transaction as the change that causes a message, and delivery over SMTP with retries.
package mail

import "time"

// Invitation asks an SDP user to activate their account on the MyVPN portal.
type Invitation struct {
	AccountID     int64
	SDPUserID     int64
	AccountName   string
	To            string // the user's email, which is also their username
	FirstName     string
	ActivationURL string // contains the one-time token
	ExpiresAt     time.Time
}

// DisabledNotice tells an SDP user that their access was disabled.
type DisabledNotice struct {
	AccountID   int64
	SDPUserID   int64
	AccountName string
	To          string
	FirstName   string
}

// CodeMail hands an SDP user a registration code. Code, EnrollLink and EnrollPage carry the code
// itself: the outbox keeps it apart from the stored bodies, as it does an activation link.
type CodeMail struct {
	AccountID   int64
	SDPUserID   int64
	AccountName string
	To          string
	FirstName   string
	Server      string // the public URL of the server, which the client registers with
	Code        string // XXXX-XXXX-XXXX-XXXX
	EnrollLink  string // onramp://enroll?server=...&account=...&code=...
	EnrollPage  string // https://<server>/enroll?... for a phone without the client
	ExpiresAt   time.Time
}
