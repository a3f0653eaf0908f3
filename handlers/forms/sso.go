package forms

// SSO is the Single Sign-On settings form. Checkboxes send "on" when ticked; an empty
// client_secret keeps the stored one.
type SSO struct {
	Enabled         string `form:"enabled"`
	Issuer          string `form:"issuer"`
	ClientID        string `form:"client_id"`
	ClientSecret    string `form:"client_secret"`
	Scopes          string `form:"scopes"`
	EmailClaim      string `form:"email_claim"`
	NoEmailVerified string `form:"no_email_verified"`
	GroupsClaim     string `form:"groups_claim"`
	CreateUsers     string `form:"create_users"`
}
