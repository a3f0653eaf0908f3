package models

import (
	"slices"
	"strings"
	"time"
)

// ClientLogin is a VPN client's sign-in with the account's identity provider (the device flow
// of docs/sso.md#the-vpn-client): the client polls with its poll token while the person signs
// in in a browser opened on the link. Only the hashes of the poll token, the link's secret and
// the claiming browser's cookie are kept.
type ClientLogin struct {
	ID         int64
	AccountID  int64
	PollHash   string
	LinkHash   string
	DeviceName string
	Platform   string
	SourceIP   string
	// IntervalSeconds is how long the client must wait between polls; slow_down raises it.
	IntervalSeconds int
	// Polls counts the polls recorded, so that of two concurrent polls one wins.
	Polls int
	// BrowserHash is the hash of the cookie of the browser that claimed the link, "" before.
	BrowserHash string
	// SDPUserID is the user the provider's sign-in matched, once it completed.
	SDPUserID *int64
	// Refusal says why the sign-in was refused (the user is unknown, disabled...), "" if not.
	Refusal     string
	DeviceID    *int64
	CreatedAt   time.Time
	ExpiresAt   time.Time
	PolledAt    *time.Time
	ClaimedAt   *time.Time
	CompletedAt *time.Time
	UsedAt      *time.Time
}

// TableName is the table of client sign-ins.
func (ClientLogin) TableName() string { return "sso_client_logins" }

// Interval is the wait between polls.
func (l *ClientLogin) Interval() time.Duration { return time.Duration(l.IntervalSeconds) * time.Second }

// ConsoleSSO is how an account's admins sign in to the console (docs/sso.md#console-admins).
type ConsoleSSO struct {
	AccountID int64
	// Enabled shows "Sign in with <provider>" on the console's sign-in page for the account.
	Enabled bool
	// PasswordSignIn lets every admin sign in with a password; when off (and Enabled), only
	// break-glass admins may.
	PasswordSignIn bool
	// CreateAdmins creates an admin on their first sign-in with the provider when one of
	// their groups maps to a role.
	CreateAdmins bool
	// AdminGroups and HelpdeskGroups are group names separated by commas: the groups claim's
	// values that make an admin or helpdesk staff.
	AdminGroups    string
	HelpdeskGroups string
	UpdatedAt      time.Time
}

// TableName is the table of console SSO settings.
func (ConsoleSSO) TableName() string { return "sso_console" }

// PasswordAllowed reports whether a may sign in to the console with a password.
func (c *ConsoleSSO) PasswordAllowed(a *Admin) bool {
	return !c.Enabled || c.PasswordSignIn || a.BreakGlass
}

// RoleFor is the role a new admin with the given groups gets: admin when one of them is an
// admin group, else helpdesk when one is a helpdesk group, else "" (no role: not created).
// Group names compare exactly, as providers send them.
func (c *ConsoleSSO) RoleFor(groups []string) Role {
	has := func(list string) bool {
		return slices.ContainsFunc(GroupList(list), func(g string) bool { return slices.Contains(groups, g) })
	}
	switch {
	case has(c.AdminGroups):
		return RoleAdmin
	case has(c.HelpdeskGroups):
		return RoleHelpdesk
	}
	return ""
}

// GroupList splits a list of group names separated by commas, dropping empty names and the
// spaces around names.
func GroupList(list string) []string {
	var out []string
	for g := range strings.SplitSeq(list, ",") {
		if g = strings.TrimSpace(g); g != "" {
			out = append(out, g)
		}
	}
	return out
}
