package models

import (
	"slices"
	"strings"
	"time"
)

// Scope is what an API token may do (docs/api.md#scopes): each /api/v1 operation needs one.
type Scope string

const (
	ScopeUsersRead     Scope = "users:read"
	ScopeUsersWrite    Scope = "users:write"
	ScopeCodesWrite    Scope = "codes:write"
	ScopeCodesRead     Scope = "codes:read" // the CSV of every active code
	ScopeDevicesWrite  Scope = "devices:write"
	ScopeEventsRead    Scope = "events:read"
	ScopeSettingsRead  Scope = "settings:read"
	ScopeSettingsWrite Scope = "settings:write"
)

// Scopes are every scope, in the order the console lists them.
var Scopes = []Scope{ScopeUsersRead, ScopeUsersWrite, ScopeCodesWrite, ScopeCodesRead, ScopeDevicesWrite, ScopeEventsRead, ScopeSettingsRead, ScopeSettingsWrite}

// Valid reports whether s is a known scope.
func (s Scope) Valid() bool { return slices.Contains(Scopes, s) }

// ActorAPIToken is an API token calling /api/v1: events name the token, not a person.
const ActorAPIToken ActorType = "token"

// APIToken is a bearer token of the admin REST API: only its hash is stored (shown once at
// creation). It acts for its account with the admin role, narrowed to its scopes; AdminID is
// the admin who created it (or, from the command line, the account's first admin), under whom
// the codes it generates are handed out.
type APIToken struct {
	ID         int64
	AccountID  int64
	AdminID    int64
	Name       string
	Scopes     string // space-separated
	TokenHash  string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	LastUsedIP string
	RevokedAt  *time.Time
}

// ScopeList returns the token's scopes.
func (t *APIToken) ScopeList() []Scope {
	var out []Scope
	for f := range strings.FieldsSeq(t.Scopes) {
		out = append(out, Scope(f))
	}
	return out
}

// Has reports whether the token carries scope s.
func (t *APIToken) Has(s Scope) bool { return slices.Contains(t.ScopeList(), s) }

// Live reports whether the token works at now: not revoked, not expired.
func (t *APIToken) Live(now time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || now.Before(*t.ExpiresAt))
}

// TokenActor is the API token an Admin value stands for (Admin.Token).
type TokenActor struct {
	ID   int64
	Name string
}

// APIIdempotencyKey is the first response to a creating POST sent with an Idempotency-Key,
// kept per token and key (Status 0 while the request runs). Body is sealed: it may hold codes.
type APIIdempotencyKey struct {
	TokenID     int64  `gorm:"primaryKey;autoIncrement:false"`
	IdemKey     string `gorm:"primaryKey"`
	RequestHash string
	Status      int
	ContentType string
	Body        string
	CreatedAt   time.Time
}

// TableName keeps GORM from splitting the initialism differently in each place.
func (APIToken) TableName() string { return "api_tokens" }

// TableName keeps GORM from splitting the initialism differently in each place.
func (APIIdempotencyKey) TableName() string { return "api_idempotency_keys" }
