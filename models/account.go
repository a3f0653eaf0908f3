package models

import (
	"regexp"
	"time"
)

// Account is a tenant: every other row belongs to one. It carries the account-wide
// provisioning settings (Access > Directory Services > User Provisioning; docs/admin-guide.md).
type Account struct {
	ID                 int64
	Name               string
	ProvisioningMethod ProvisioningMethod
	InviteManual       bool
	InviteDirectory    bool
	NotifyDisabled     bool
	CodeExpiryHours    int
	CodeExpiryUnit     string
	SSOEnabled         bool
	// How long the account keeps its events, and the bodies of its sent mail (Settings > Data
	// Retention; models/retention).
	EventRetentionDays    int
	MailBodyRetentionDays int
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// ProvisioningMethod is how new SDP users get the client.
type ProvisioningMethod string

const (
	MethodInvitationEmail  ProvisioningMethod = "invitation_email"
	MethodRegistrationCode ProvisioningMethod = "registration_code"
)

// Label is the method as the settings page names it.
func (m ProvisioningMethod) Label() string {
	if m == MethodRegistrationCode {
		return "Registration Code"
	}
	return "Invitation Email"
}

// Valid reports whether m is a known method.
func (m ProvisioningMethod) Valid() bool {
	return m == MethodInvitationEmail || m == MethodRegistrationCode
}

// Registration code expiry limits: a code lives at least an hour and at most a week.
const (
	MinCodeExpiryHours = 1
	MaxCodeExpiryHours = 7 * 24
)

// InvitesNewManualUsers reports whether users created in the console get an invitation.
func (a *Account) InvitesNewManualUsers() bool {
	return a.ProvisioningMethod == MethodInvitationEmail && a.InviteManual
}

// InvitesNewDirectoryUsers reports whether users imported by Directory Services get one.
func (a *Account) InvitesNewDirectoryUsers() bool {
	return a.ProvisioningMethod == MethodInvitationEmail && a.InviteDirectory
}

// NotifiesDisabledUsers reports whether disabled users get a notification email.
func (a *Account) NotifiesDisabledUsers() bool {
	return a.ProvisioningMethod == MethodInvitationEmail && a.NotifyDisabled
}

// OffersMFA reports whether the MyVPN portal offers MFA enrollment: not under the Registration
// Code method, whose codes do not support MFA (users who have it may still remove it).
func (a *Account) OffersMFA() bool {
	return a.ProvisioningMethod != MethodRegistrationCode
}

// NewAccount returns an account with the default settings.
func NewAccount(name string) *Account {
	return &Account{Name: name, ProvisioningMethod: MethodInvitationEmail, InviteManual: true, InviteDirectory: true,
		NotifyDisabled: true, CodeExpiryHours: MaxCodeExpiryHours, CodeExpiryUnit: "days",
		EventRetentionDays: DefaultEventRetentionDays, MailBodyRetentionDays: DefaultMailBodyRetentionDays}
}

// Data retention: the defaults of a new account, and the limits of the settings.
const (
	DefaultEventRetentionDays    = 400
	DefaultMailBodyRetentionDays = 30
	MinEventRetentionDays        = 30
	MaxEventRetentionDays        = 3650
	MinMailBodyRetentionDays     = 1
	MaxMailBodyRetentionDays     = 3650
)

var accountNameRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$`)

// ValidateAccountName checks the slug users type on the portal sign-in.
func ValidateAccountName(name string) string {
	if name == "" {
		return "Enter an account name."
	}
	if !accountNameRE.MatchString(name) {
		return "Use 1 to 40 lowercase letters, digits or hyphens, starting and ending with a letter or digit."
	}
	return ""
}
