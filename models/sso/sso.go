// Package sso owns single sign-on with an account's OpenID provider (docs/sso.md): the
// provider's settings (client secret sealed at rest), discovery, and the relying party of the
// authorization code flow with PKCE (S256). A sign-in attempt (models.SSOLogin) is begun for a
// purpose (portal, client, console) with a payload of that purpose's own, and completed once at
// the one redirect URI (CallbackPath), where the ID token is verified with go-oidc (signature
// against the provider's JWKS, issuer, expiry) and audience, nonce, email and email_verified
// are checked here. What a verified identity may do (activate an SDP user, register a device,
// open the console) is the purpose's business: Complete hands back the attempt and the
// identity, and Refuse records a refusal the same way for every purpose. It knows nothing of
// HTTP requests: callers pass the browser binding value (a cookie) and the client's IP.
package sso

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"onramp/models"
	"onramp/models/ratelimit"
	"onramp/models/secret"
	"onramp/models/store"
	"onramp/models/twostep"
)

// Purpose is what a sign-in attempt is for; the callback hands the result to its purpose.
type Purpose string

const (
	// PurposePortal signs an SDP user in to MyVPN (activating them the first time).
	PurposePortal Purpose = "portal"
	// PurposeClient completes a VPN client's device sign-in.
	PurposeClient Purpose = "client"
	// PurposeConsole signs an admin in to the console.
	PurposeConsole Purpose = "console"
)

func (p Purpose) valid() bool {
	return p == PurposePortal || p == PurposeClient || p == PurposeConsole
}

// CallbackPath is the one redirect URI's path (the admin pastes BaseURL + CallbackPath into the
// provider).
const CallbackPath = "/sso/callback"

// providerTimeout bounds each exchange with a provider (discovery, token, keys, userinfo).
const providerTimeout = 15 * time.Second

// LoginTTL is how long a sign-in attempt may take at the provider.
const LoginTTL = 10 * time.Minute

// Defaults of the settings form.
const (
	DefaultScopes     = "openid email profile"
	DefaultEmailClaim = "email"
)

// ErrNotEnabled is Begin's answer for an account that does not exist or has no single sign-on
// turned on (the same answer: account names are not told apart).
var ErrNotEnabled = errors.New("single sign-on is not turned on for this account")

// Config is what the service needs from outside.
type Config struct {
	// BaseURL is the public URL of the server: the redirect URI is BaseURL + CallbackPath.
	BaseURL string
	Logger  *slog.Logger
}

// Service is single sign-on.
type Service struct {
	store *store.Store
	box   *twostep.Sealer
	cfg   Config
	log   *slog.Logger
	now   func() time.Time

	mu        sync.Mutex
	providers map[string]cachedProvider // by issuer

	begins *ratelimit.Limiter // sign-in attempts begun, per client IP
}

// Attempts a client IP may begin: a burst, then one every few seconds. Each writes a row, and
// nobody signs in twenty times a minute.
const (
	BeginBurst = 20
	BeginEvery = 3 * time.Second
)

// New builds the service; client secrets and PKCE verifiers are sealed with a key derived
// from keys for "sso".
func New(s *store.Store, keys *secret.Keys, cfg Config) *Service {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &Service{store: s, box: twostep.NewSealer(keys.DeriveAll("sso")...), cfg: cfg, log: log,
		now: func() time.Time { return time.Now().UTC() }, providers: map[string]cachedProvider{},
		begins: ratelimit.New(BeginBurst, BeginEvery).Shares(s, "portal.sso.begin")}
}

// WithClock replaces the clock (tests).
func (s *Service) WithClock(now func() time.Time) *Service {
	s.now = now
	s.begins.WithClock(now)
	return s
}

// AllowBegin takes a token of the client's budget of sign-in attempts (BeginBurst, then one
// per BeginEvery): callers check it before Begin. Past it, a *models.RateLimitError.
func (s *Service) AllowBegin(ip string) error {
	if ok, wait := s.begins.Take(ratelimit.ClientKey(ip)); !ok {
		return &models.RateLimitError{RetryAfter: wait}
	}
	return nil
}

// RedirectURI is the redirect URI to register at the provider.
func (s *Service) RedirectURI() string { return s.cfg.BaseURL + CallbackPath }

func secretAAD(accountID int64) string {
	return "sso-client-secret|" + strconv.FormatInt(accountID, 10)
}

func verifierAAD(stateHash string) string { return "sso-verifier|" + stateHash }

// Refusal is a sign-in the service (or a purpose, with Refuse) turned down: Reason is the
// short cause recorded in the event ("wrong nonce", "unknown user"), Message what the person
// is told. Login is the attempt when it is known (nil for a forged state).
type Refusal struct {
	Reason  string
	Message string
	Login   *Login
}

func (r *Refusal) Error() string { return "sso: sign-in refused: " + r.Reason }

// Login is a used sign-in attempt: its account, purpose and payload.
type Login struct {
	Account *models.Account
	Purpose Purpose
	Payload string
	// Settings are the account's provider settings (CreateUsers, GroupsClaim) as they were
	// when the attempt completed.
	Settings *models.SSOSettings
}

// Identity is who the provider says signed in, from the verified ID token (and userinfo when
// the ID token lacks the email claim).
type Identity struct {
	Issuer        string
	Subject       string
	Email         string // normalised
	EmailVerified bool
	GivenName     string
	FamilyName    string
	Groups        []string
}

// Result is a completed sign-in: the attempt and the verified identity.
type Result struct {
	Login
	Identity Identity
	IP       string
}

// Refuse records that a purpose turned down a verified identity (unknown user, disabled user)
// and returns the *Refusal to render. user is the SDP user concerned, when there is one.
func (s *Service) Refuse(ctx context.Context, r *Result, reason, message string, user *models.SDPUser) error {
	ref := &Refusal{Reason: reason, Message: message, Login: &r.Login}
	if err := s.refusalEvent(ctx, ref, &r.Account.ID, r.IP, r.Identity.Email, user); err != nil {
		return err
	}
	return ref
}

// refusalEvent writes the SSO / Sign-in Refused event of a refusal and logs it (never a token).
func (s *Service) refusalEvent(ctx context.Context, ref *Refusal, accountID *int64, ip, email string, user *models.SDPUser) error {
	details := map[string]string{"reason": ref.Reason}
	if ref.Login != nil {
		details["purpose"] = string(ref.Login.Purpose)
	}
	s.log.Info("single sign-on refused", "reason", ref.Reason, "purpose", details["purpose"], "ip", ip)
	actor := models.Actor{Type: models.ActorUser, Label: email, IP: ip}
	var e *models.Event
	if user != nil {
		e = models.UserEvent(user, models.EventSSO, models.SubSSORefused, models.UserActor(user, ip), details)
	} else {
		e = models.NewEvent(accountID, models.EventSSO, models.SubSSORefused, actor, email, details)
	}
	return s.store.CreateEvent(ctx, e)
}

// ResealSecrets rewrites client secrets sealed under the previous ONRAMP_SECRET under the
// current one (onramp secret reseal). Sign-ins in flight keep their verifiers: they live
// minutes and open under either secret meanwhile.
func (s *Service) ResealSecrets(ctx context.Context) (store.Resealed, error) {
	return twostep.Reseal(ctx, s.store, store.SealedSSOSecret, s.box, func(v store.Sealed) string {
		return secretAAD(v.AccountID)
	})
}
