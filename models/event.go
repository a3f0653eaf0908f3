package models

import (
	"encoding/json"
	"time"
)

// EventType groups event sub-types; the Events page filters by both.
type EventType string

const (
	EventAdmin     EventType = "Admin"
	EventUser      EventType = "User"
	EventPortal    EventType = "Portal"
	EventCode      EventType = "Registration Code"
	EventDevice    EventType = "Device"
	EventClient    EventType = "Client"
	EventDirectory EventType = "Directory"
	EventSCIM      EventType = "SCIM"
	// EventDirectorySync is an LDAP directory sync: Started, Finished (its counts) or Failed (why).
	EventDirectorySync EventType = "Directory Sync"
	// EventGroup is a directory's group (SCIM /Groups) being created, changed or deleted.
	EventGroup EventType = "Group"
	// EventSSO is single sign-on with the account's OpenID provider: its settings and the
	// sign-ins it refused.
	EventSSO EventType = "SSO"
	// EventAPI is the admin REST API's tokens: Token Created, Token Revoked.
	EventAPI EventType = "API"
)

// Event sub-types.
const (
	SubSignedIn        = "Signed In"
	SubSignInFailed    = "Sign-in Failed"
	SubSignedOut       = "Signed Out"
	SubAccountCreated  = "Account Created"
	SubAdminCreated    = "Admin Created"
	SubAdminDisabled   = "Admin Disabled"
	SubAdminEnabled    = "Admin Enabled"
	SubRoleChanged     = "Role Changed"
	SubPasswordChanged = "Password Changed"
	SubSettingsChanged = "Settings Changed"
	SubEventsExported  = "Events Exported"
	SubHeldMailSent    = "Held Mail Sent"
	// SubDataPurged: data retention deleted old events and emptied old mail bodies.
	SubDataPurged = "Data Purged"
	// SubRunResumed: an admin resumed a stalled background run.
	SubRunResumed = "Run Resumed"

	SubUserCreated       = "Created"
	SubUserInvited       = "Invited"
	SubUserActivated     = "Activated"
	SubUserDisabled      = "Disabled"
	SubUserEnabled       = "Enabled"
	SubUserDeleted       = "Deleted"
	SubUserPasswordReset = "Password Reset"
	SubUserUpdated       = "Updated"
	SubMFAEnrolled       = "MFA Enrolled"
	SubMFARemoved        = "MFA Removed"

	SubCodeGenerated = "Generated"
	SubCodeUsed      = "Used"
	SubCodeRevoked   = "Revoked"
	SubCodeSent      = "Sent" // mailed to its user (email_code)
	SubCodesDownload = "Downloaded"

	SubDeviceRegistered     = "Registered"
	SubDeviceSignedOut      = "Signed Out"
	SubDeviceSessionChecked = "Session Checked"
	SubDeviceSessionRefused = "Session Refused"

	SubClientSignInFailed   = "Sign-in Failed"
	SubClientCodeRejected   = "Code Rejected"
	SubClientRequestRefused = "Request Refused"
	SubClientRateLimited    = "Rate Limited"
	SubClientTokenRejected  = "Token Rejected"
	SubClientCodeFlood      = "Code Flood" // failed redemptions across all clients past their pace

	SubDirectorySync = "Sync"
	// A directory's settings: created, changed (on the Directory Sync tab or the command line).
	SubDirectoryCreated = "Created"
	SubDirectoryUpdated = "Settings Changed"

	SubSyncStarted  = "Started"
	SubSyncFinished = "Finished"
	SubSyncFailed   = "Failed"

	SubTokenCreated = "Token Created"
	SubTokenRevoked = "Token Revoked"

	SubGroupCreated        = "Created"
	SubGroupRenamed        = "Renamed"
	SubGroupDeleted        = "Deleted"
	SubGroupMembersAdded   = "Members Added"
	SubGroupMembersRemoved = "Members Removed"
	SubSSORefused          = "Sign-in Refused"
)

// ActorType says who caused an event.
type ActorType string

const (
	ActorAdmin    ActorType = "admin"
	ActorHelpdesk ActorType = "helpdesk"
	ActorUser     ActorType = "user"
	ActorClient   ActorType = "client"
	ActorSystem   ActorType = "system"
	// ActorDirectory is a directory (SCIM or LDAP) creating, changing or removing users.
	ActorDirectory ActorType = "directory"
)

// ActorFor is the actor type for an admin of the given role.
func ActorFor(r Role) ActorType {
	if r == RoleHelpdesk {
		return ActorHelpdesk
	}
	return ActorAdmin
}

// Event is one row of the audit trail. Details never hold a secret (code, token, password).
type Event struct {
	ID         int64
	AccountID  *int64
	OccurredAt time.Time
	Type       EventType
	SubType    string
	ActorType  ActorType
	ActorID    *int64
	ActorLabel string
	Email      string
	SDPUserID  *int64
	DeviceID   *int64
	SourceIP   string
	Details    string
}

// Actor identifies who did something, for events.
type Actor struct {
	Type  ActorType
	ID    *int64
	Label string
	IP    string
}

// AdminActor is the actor for an admin acting in the console, or for the API token acting
// as one (Admin.Token).
func AdminActor(a *Admin, ip string) Actor {
	if t := a.Token; t != nil {
		id := t.ID
		return Actor{Type: ActorAPIToken, ID: &id, Label: "API token " + t.Name, IP: ip}
	}
	id := a.ID
	return Actor{Type: ActorFor(a.Role), ID: &id, Label: a.Email, IP: ip}
}

// NewEvent builds an event for an account; details are encoded as JSON.
func NewEvent(accountID *int64, t EventType, sub string, actor Actor, email string, details map[string]string) *Event {
	e := &Event{
		AccountID:  accountID,
		Type:       t,
		SubType:    sub,
		ActorType:  actor.Type,
		ActorID:    actor.ID,
		ActorLabel: actor.Label,
		Email:      email,
		SourceIP:   actor.IP,
	}
	if len(details) > 0 {
		b, _ := json.Marshal(details)
		e.Details = string(b)
	}
	return e
}

// UserEvent is an event about an SDP user.
func UserEvent(u *SDPUser, t EventType, sub string, actor Actor, details map[string]string) *Event {
	e := NewEvent(&u.AccountID, t, sub, actor, u.Email, details)
	id := u.ID
	e.SDPUserID = &id
	return e
}

// UserActor is the actor for an SDP user acting on the portal.
func UserActor(u *SDPUser, ip string) Actor {
	id := u.ID
	return Actor{Type: ActorUser, ID: &id, Label: u.Email, IP: ip}
}
