package models

import "time"

// OriginSSO is the origin of users created on their first single sign-on (SSOSettings.CreateUsers).
const OriginSSO = "SSO"

// SSOSettings is an account's OpenID provider (Access > Directory Services > Single Sign-On;
// docs/sso.md). The account's SSOEnabled switch says whether it is in use. SecretSealed is the
// client secret sealed with the account id as associated data; it is never shown again.
type SSOSettings struct {
	AccountID    int64 `gorm:"primaryKey;autoIncrement:false"`
	Issuer       string
	ClientID     string
	SecretSealed string
	// Scopes are space-separated, openid first.
	Scopes     string
	EmailClaim string
	// NoEmailVerified says the provider does not send email_verified: an absent claim is then
	// accepted (an explicit false never is).
	NoEmailVerified bool
	GroupsClaim     string
	// CreateUsers creates an SDP user (origin OriginSSO) on the first sign-in of someone the
	// account does not know yet.
	CreateUsers bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TableName names the table.
func (SSOSettings) TableName() string { return "sso_settings" }

// SSOLogin is one sign-in attempt at the provider, from the redirect to the callback: its state
// (only the hash is stored), nonce, PKCE verifier (sealed), the hash of the browser binding
// (a random value in a cookie of the browser that began it), what it is for (Purpose: portal,
// client or console) with the purpose's own Payload, and when it was used (single use).
type SSOLogin struct {
	StateHash      string `gorm:"primaryKey"`
	AccountID      int64
	Purpose        string
	Payload        string
	Nonce          string
	VerifierSealed string
	BindingHash    string
	ExpiresAt      time.Time
	UsedAt         *time.Time
	CreatedAt      time.Time
}

// TableName names the table.
func (SSOLogin) TableName() string { return "sso_logins" }
