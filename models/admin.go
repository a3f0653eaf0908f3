package models

import (
	"net/mail"
	"strings"
	"time"
)

// Role is what an admin of the console may do.
type Role string

const (
	RoleAdmin    Role = "admin"
	RoleHelpdesk Role = "helpdesk"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleHelpdesk }

// Label is the role as shown to people.
func (r Role) Label() string {
	if r == RoleHelpdesk {
		return "Helpdesk"
	}
	return "Admin"
}

// AdminStatus says whether an admin may sign in.
type AdminStatus string

const (
	AdminActive   AdminStatus = "active"
	AdminDisabled AdminStatus = "disabled"
)

// Admin is a person who uses the console of one account.
type Admin struct {
	ID           int64
	AccountID    int64
	Email        string
	Name         string
	Role         Role
	Status       AdminStatus
	PasswordHash string
	// TOTPSecret is the two-step verification key, sealed (AES-256-GCM); "" when it is off.
	TOTPSecret string
	// TOTPLastStep is the last TOTP time step a code was accepted for: a code works once.
	TOTPLastStep int64
	// BreakGlass keeps password sign-in for this admin when the account turned it off for
	// everyone signing in with the identity provider (docs/sso.md#console-admins).
	BreakGlass   bool
	LastSignInAt *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// Token is set when an API token acts for the account (models/apitokens): the services
	// apply the admin role's rules, and events name the token instead of the admin.
	Token *TokenActor `gorm:"-"`
}

// HasPassword reports whether the admin finished setting a password.
func (a *Admin) HasPassword() bool { return a.PasswordHash != "" }

// HasTOTP reports whether signing in asks for an authenticator code as well as the password.
func (a *Admin) HasTOTP() bool { return a.TOTPSecret != "" }

// NormalizeEmail trims and lowercases an address; emails compare case-insensitively everywhere.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidateEmail returns a message for a malformed address, or "".
func ValidateEmail(email string) string {
	if email == "" {
		return "Enter an email address."
	}
	if len(email) > 254 {
		return "Email addresses are at most 254 characters."
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || !strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") {
		return "Enter a valid email address, like name@example.com."
	}
	return ""
}

// ValidateName returns a message for an empty or overlong person name, or "".
func ValidateName(name string) string {
	if strings.TrimSpace(name) == "" {
		return "Enter a name."
	}
	if len([]rune(name)) > 100 {
		return "Names are at most 100 characters."
	}
	return ""
}
