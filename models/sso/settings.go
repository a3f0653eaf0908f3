package sso

import (
	"context"
	"errors"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"onramp/models"
	"onramp/models/store"
)

// Settings are an account's provider settings as the settings page shows them: the client
// secret is never among them, only whether one is stored.
type Settings struct {
	Enabled         bool
	Issuer          string
	ClientID        string
	HasSecret       bool
	Scopes          string
	EmailClaim      string
	NoEmailVerified bool
	GroupsClaim     string
	CreateUsers     bool
}

// Input is the settings form. An empty ClientSecret keeps the stored one.
type Input struct {
	Enabled         bool
	Issuer          string
	ClientID        string
	ClientSecret    string
	Scopes          string
	EmailClaim      string
	NoEmailVerified bool
	GroupsClaim     string
	CreateUsers     bool
}

// Settings loads the provider settings of an account (defaults when none are saved).
func (s *Service) Settings(ctx context.Context, accountID int64) (Settings, error) {
	account, err := s.store.Account(ctx, accountID)
	if err != nil {
		return Settings{}, err
	}
	st, err := s.store.SSOSettings(ctx, accountID)
	if errors.Is(err, models.ErrNotFound) {
		return Settings{Enabled: account.SSOEnabled, Scopes: DefaultScopes, EmailClaim: DefaultEmailClaim}, nil
	}
	if err != nil {
		return Settings{}, err
	}
	return Settings{Enabled: account.SSOEnabled, Issuer: st.Issuer, ClientID: st.ClientID,
		HasSecret: st.SecretSealed != "", Scopes: st.Scopes, EmailClaim: st.EmailClaim, NoEmailVerified: st.NoEmailVerified,
		GroupsClaim: st.GroupsClaim, CreateUsers: st.CreateUsers}, nil
}

var claimRE = regexp.MustCompile(`^[A-Za-z0-9_:./-]{1,100}$`)

// normalize trims the input and fills the defaults.
func (in *Input) normalize() {
	in.Issuer = strings.TrimRight(strings.TrimSpace(in.Issuer), "/")
	in.ClientID = strings.TrimSpace(in.ClientID)
	in.ClientSecret = strings.TrimSpace(in.ClientSecret)
	in.Scopes = strings.Join(strings.Fields(in.Scopes), " ")
	if in.Scopes == "" {
		in.Scopes = DefaultScopes
	}
	in.EmailClaim = strings.TrimSpace(in.EmailClaim)
	if in.EmailClaim == "" {
		in.EmailClaim = DefaultEmailClaim
	}
	in.GroupsClaim = strings.TrimSpace(in.GroupsClaim)
}

// validate checks the form; hasSecret says whether a client secret is stored already.
func (in *Input) validate(hasSecret bool) error {
	v := &models.ValidationError{}
	if msg := issuerProblem(in.Issuer); msg != "" {
		v.Add("issuer", msg)
	}
	if in.ClientID == "" || len(in.ClientID) > 500 {
		v.Add("client_id", "Enter the client ID the identity provider gave this application.")
	}
	if in.ClientSecret == "" && !hasSecret {
		v.Add("client_secret", "Enter the client secret the identity provider gave this application.")
	}
	if len(in.ClientSecret) > 2000 {
		v.Add("client_secret", "This client secret is too long (at most 2000 characters).")
	}
	if !slices.Contains(strings.Fields(in.Scopes), "openid") || len(in.Scopes) > 500 {
		v.Add("scopes", "The scopes must include openid (for example: openid email profile).")
	}
	if !claimRE.MatchString(in.EmailClaim) {
		v.Add("email_claim", "Enter the name of the claim that holds the email address (usually email).")
	}
	if in.GroupsClaim != "" && !claimRE.MatchString(in.GroupsClaim) {
		v.Add("groups_claim", "Enter a claim name (letters, digits, _ : . / -), or leave it empty.")
	}
	return v.OrNil()
}

// issuerProblem says what is wrong with an issuer URL: https, or http on a loopback address
// (a provider on the same machine, tests).
func issuerProblem(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "Enter the issuer URL, for example https://login.example.com (discovery is read from <issuer>/.well-known/openid-configuration)."
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		if ip := net.ParseIP(u.Hostname()); u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback()) {
			return ""
		}
	}
	return "The issuer URL must start with https:// (http:// only for a provider on this machine)."
}

// Save stores the provider settings of an account and its single sign-on switch, and records
// what changed (never the secret itself: "client_secret: replaced") as an SSO / Settings
// Changed event. It reports whether anything changed.
func (s *Service) Save(ctx context.Context, accountID int64, actor models.Actor, in Input) (bool, error) {
	in.normalize()
	changed := false
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		account, err := tx.LockAccount(ctx, accountID)
		if err != nil {
			return err
		}
		old, err := tx.SSOSettings(ctx, accountID)
		if errors.Is(err, models.ErrNotFound) {
			old, err = &models.SSOSettings{AccountID: accountID, CreatedAt: s.now()}, nil
		}
		if err != nil {
			return err
		}
		if err := in.validate(old.SecretSealed != ""); err != nil {
			return err
		}
		next := *old
		next.Issuer, next.ClientID, next.Scopes, next.EmailClaim = in.Issuer, in.ClientID, in.Scopes, in.EmailClaim
		next.NoEmailVerified, next.GroupsClaim, next.CreateUsers = in.NoEmailVerified, in.GroupsClaim, in.CreateUsers
		if in.ClientSecret != "" {
			next.SecretSealed = s.box.Seal(in.ClientSecret, secretAAD(accountID))
		}
		details := settingsChanges(old, &next, in.ClientSecret != "", account.SSOEnabled, in.Enabled)
		if len(details) == 0 {
			return nil
		}
		changed = true
		next.UpdatedAt = s.now()
		if err := tx.SaveSSOSettings(ctx, &next); err != nil {
			return err
		}
		if account.SSOEnabled != in.Enabled {
			if err := tx.SetSSOEnabled(ctx, accountID, in.Enabled); err != nil {
				return err
			}
		}
		return tx.CreateEvent(ctx, models.NewEvent(&accountID, models.EventSSO, models.SubSettingsChanged, actor, "", details))
	})
	return changed, err
}

// settingsChanges lists each changed setting as "old → new" (the secret only as "replaced").
func settingsChanges(a, b *models.SSOSettings, newSecret, wasOn, on bool) map[string]string {
	d := map[string]string{}
	add := func(k, x, y string) {
		if x != y {
			d[k] = x + " → " + y
		}
	}
	onOff := func(v bool) string {
		if v {
			return "on"
		}
		return "off"
	}
	add("enabled", onOff(wasOn), onOff(on))
	add("issuer", a.Issuer, b.Issuer)
	add("client_id", a.ClientID, b.ClientID)
	add("scopes", a.Scopes, b.Scopes)
	add("email_claim", a.EmailClaim, b.EmailClaim)
	add("no_email_verified", onOff(a.NoEmailVerified), onOff(b.NoEmailVerified))
	add("groups_claim", a.GroupsClaim, b.GroupsClaim)
	add("create_users", onOff(a.CreateUsers), onOff(b.CreateUsers))
	if newSecret {
		d["client_secret"] = "replaced"
	}
	return d
}

// Discovery is what a provider's discovery document says.
type Discovery struct {
	Issuer           string
	AuthorizationURL string
	TokenURL         string
	JWKSURL          string
	UserInfoURL      string
	PKCES256         bool
	Scopes           []string
	Claims           []string
}

// Discover reads an issuer's discovery document (/.well-known/openid-configuration) now, not
// from the cache sign-ins use. go-oidc checks that the document's issuer is the one asked for.
func (s *Service) Discover(ctx context.Context, issuer string) (*Discovery, error) {
	if msg := issuerProblem(strings.TrimRight(strings.TrimSpace(issuer), "/")); msg != "" {
		return nil, models.NewValidationError("issuer", msg)
	}
	p, err := s.fetchProvider(ctx, strings.TrimRight(strings.TrimSpace(issuer), "/"))
	if err != nil {
		return nil, err
	}
	var doc struct {
		Issuer     string   `json:"issuer"`
		UserInfo   string   `json:"userinfo_endpoint"`
		JWKS       string   `json:"jwks_uri"`
		Challenges []string `json:"code_challenge_methods_supported"`
		Scopes     []string `json:"scopes_supported"`
		Claims     []string `json:"claims_supported"`
	}
	if err := p.Claims(&doc); err != nil {
		return nil, err
	}
	e := p.Endpoint()
	return &Discovery{Issuer: doc.Issuer, AuthorizationURL: e.AuthURL, TokenURL: e.TokenURL, JWKSURL: doc.JWKS,
		UserInfoURL: doc.UserInfo, PKCES256: slices.Contains(doc.Challenges, "S256"), Scopes: doc.Scopes, Claims: doc.Claims}, nil
}

// ProviderLabel is how sign-in pages name the provider of an account whose single sign-on is
// on ("Sign in with Okta"), or "" when it is off or the account does not exist.
func (s *Service) ProviderLabel(ctx context.Context, accountName string) (string, error) {
	_, st, err := s.enabled(ctx, accountName)
	if errors.Is(err, ErrNotEnabled) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return providerLabel(st.Issuer), nil
}

// providerLabel names the well-known providers by their issuer's host, others by the host.
func providerLabel(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil {
		return "your identity provider"
	}
	h := u.Hostname()
	switch {
	case h == "accounts.google.com":
		return "Google"
	case h == "login.microsoftonline.com" || strings.HasSuffix(h, ".ciamlogin.com"):
		return "Microsoft"
	case strings.HasSuffix(h, ".okta.com") || strings.HasSuffix(h, ".oktapreview.com"):
		return "Okta"
	}
	return h
}

// Set is `onramp sso set`: the provider of the account named accountName, read through
// discovery first (a provider that cannot be read is not saved), with single sign-on on. The
// scopes, claims and email rule keep their saved values (or the defaults).
func (s *Service) Set(ctx context.Context, accountName string, actor models.Actor, issuer, clientID, clientSecret string, createUsers bool) (*Discovery, error) {
	account, err := s.store.AccountByName(ctx, strings.ToLower(strings.TrimSpace(accountName)))
	if err != nil {
		return nil, err
	}
	cur, err := s.Settings(ctx, account.ID)
	if err != nil {
		return nil, err
	}
	in := Input{Enabled: true, Issuer: issuer, ClientID: clientID, ClientSecret: clientSecret, Scopes: cur.Scopes,
		EmailClaim: cur.EmailClaim, NoEmailVerified: cur.NoEmailVerified, GroupsClaim: cur.GroupsClaim, CreateUsers: createUsers}
	in.normalize()
	if err := in.validate(cur.HasSecret); err != nil {
		return nil, err
	}
	d, err := s.Discover(ctx, in.Issuer)
	if err != nil {
		return nil, err
	}
	_, err = s.Save(ctx, account.ID, actor, in)
	return d, err
}
