package models

import "time"

// SessionKind says whose sessions these are: the console's admins or the portal's SDP users.
// Each kind has its own table, cookie and limits; a session of one never opens the other.
type SessionKind string

const (
	ConsoleSession SessionKind = "console" // an admin's (admin_sessions)
	PortalSession  SessionKind = "portal"  // an SDP user's on MyVPN (portal_sessions)
)

// Session is the server-side half of a sign-in: the cookie carries a random token, the database
// keeps its hash, so deleting this row ends the session wherever the cookie is.
type Session struct {
	ID         string // SHA-256 of the token, hex
	OwnerID    int64  // the admin's or the SDP user's id, by kind
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	IP         string
	UserAgent  string
}

// TokenPurpose names what a one-time link is for.
type TokenPurpose string

const (
	TokenSetup         TokenPurpose = "setup"
	TokenAdminPassword TokenPurpose = "admin_password"
	// TokenUserActivation is the MyVPN activation link of an invitation.
	TokenUserActivation TokenPurpose = "user_activation"
)

// OneTimeToken is a link that works once before it expires; only the token's hash is stored.
type OneTimeToken struct {
	ID        int64
	Purpose   TokenPurpose
	TokenHash string
	AccountID *int64
	AdminID   *int64
	SDPUserID *int64
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}
