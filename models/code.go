package models

import "time"

// CodeState is where a registration code is in its life (derived, never stored).
type CodeState string

const (
	CodeActive  CodeState = "active"
	CodeUsed    CodeState = "used"
	CodeExpired CodeState = "expired"
	CodeRevoked CodeState = "revoked"
)

// Who generated a code.
const (
	GeneratedByAdmin = "admin" // for selected users, from the Users Actions
	GeneratedByBulk  = "bulk"  // "Generate for new users"
)

// RegistrationCode is a one-time code that registers one device of an SDP user. Its text is
// never stored: LookupHash (HMAC-SHA256) finds it on redemption and Encrypted (AES-256-GCM) lets
// admins download it while it is active.
type RegistrationCode struct {
	ID                 int64
	AccountID          int64
	SDPUserID          int64
	LookupHash         string
	Encrypted          string // "" once used, revoked or expired
	GeneratedBy        string
	GeneratedByAdminID *int64
	CreatedAt          time.Time
	ExpiresAt          time.Time
	UsedAt             *time.Time
	RevokedAt          *time.Time
	DeviceID           *int64
}

// State derives the code's state at now.
func (c *RegistrationCode) State(now time.Time) CodeState {
	switch {
	case c.RevokedAt != nil:
		return CodeRevoked
	case c.UsedAt != nil:
		return CodeUsed
	case !now.Before(c.ExpiresAt):
		return CodeExpired
	}
	return CodeActive
}

// How a device was registered.
const (
	ViaCode     = "code"
	ViaPassword = "password"
)

// Device is a VPN client installation of an SDP user. Its credential is a random 256-bit token
// stored only as a hash.
type Device struct {
	ID            int64
	AccountID     int64
	SDPUserID     int64
	Name          string
	Platform      string
	RegisteredVia string
	TokenHash     string
	RegisteredAt  time.Time
	LastSeenAt    time.Time
	RevokedAt     *time.Time
	RevokedReason string
}

// Active reports whether the device's credential still works.
func (d *Device) Active() bool { return d.RevokedAt == nil }
