package models

import (
	"strings"
	"time"
)

// UserStatus says whether an SDP user may connect.
type UserStatus string

const (
	UserEnabled  UserStatus = "enabled"
	UserDisabled UserStatus = "disabled"
)

// Activation is how far an SDP user got with activating their account.
type Activation string

const (
	ActivationNew            Activation = "new"
	ActivationInvitationSent Activation = "invitation_sent"
	ActivationActive         Activation = "active"
	// ActivationRegistered is never stored: a user who has not activated the portal but has a
	// VPN device (registered with a registration code) is shown, and filtered, as Registered
	// (SDPUser.Progress). Deriving it from the devices counter keeps the redemption's
	// statements as they are, and a user whose devices are all signed out goes back to their
	// invitation state, which is again the truth.
	ActivationRegistered Activation = "registered"
)

// Label is the activation state as pages show it (an invited user's label says more when the
// invitation's delivery state is known: InvitationLabel).
func (a Activation) Label() string {
	switch a {
	case ActivationInvitationSent:
		return "Invited"
	case ActivationActive:
		return "Active"
	case ActivationRegistered:
		return "Registered"
	}
	return "New"
}

// Progress is how far the user got, as pages show it: the stored activation state, or
// ActivationRegistered for a user who is not active and has a device.
func (u *SDPUser) Progress() Activation {
	if u.Activation != ActivationActive && u.Devices > 0 {
		return ActivationRegistered
	}
	return u.Activation
}

// OriginManual marks users created in the console; directory users have "directory:<name>".
const OriginManual = "manual"

// SDPUser is a remote user of the VPN service.
type SDPUser struct {
	ID        int64
	AccountID int64
	FirstName string
	LastName  string
	Email     string
	Phone     string
	Origin    string
	// DirectoryID, ExternalID and UserName are set for users a directory created: the
	// directory's own id of the user (SCIM externalId) and its userName, unique in the directory.
	DirectoryID   *int64
	ExternalID    *string
	UserName      *string
	Status        UserStatus
	Activation    Activation
	MFAConfigured bool
	TOTPSecret    string // encrypted at rest; "" when MFA is not configured
	TOTPLastStep  int64  // last accepted TOTP time step: a code is accepted once (RFC 6238 §5.2)
	PasswordHash  string // argon2id; "" until activation
	NameKey       string // lower("last first"), for sorting by name
	// HadCode (ever had a registration code) and ActiveCodes (codes still holding their sealed
	// copy: neither used, revoked nor wiped after expiry) are read from the user's codes, never
	// written: the store's user reads fill them in.
	HadCode     bool `gorm:"->"`
	ActiveCodes int  `gorm:"->"`
	Devices     int
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TableName keeps GORM from splitting the initialism differently in each place.
func (SDPUser) TableName() string { return "sdp_users" }

// ManagedBy is the name of the directory that owns the user's name, email, phone and status
// ("" for a user of the console): the console shows them read-only, since the directory's next
// update would undo a change made here.
func (u *SDPUser) ManagedBy() string {
	if u.DirectoryID == nil {
		return ""
	}
	return strings.TrimPrefix(u.Origin, "directory:")
}

// OriginLabel is how the console shows an origin: Manual, or the directory's name.
func OriginLabel(origin string) string {
	if origin == OriginManual {
		return "Manual"
	}
	return strings.TrimPrefix(origin, "directory:")
}

// FullName is "First Last".
func (u *SDPUser) FullName() string { return strings.TrimSpace(u.FirstName + " " + u.LastName) }

// UserNameKey is the sort key of a name.
func UserNameKey(first, last string) string {
	return strings.ToLower(strings.TrimSpace(last) + " " + strings.TrimSpace(first))
}
