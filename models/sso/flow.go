package sso

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"onramp/models"
	"onramp/models/secret"
	"onramp/models/store"
)

// ErrProviderUnreachable is Begin's answer when the provider's discovery document cannot be
// read (the sign-in cannot start).
var ErrProviderUnreachable = errors.New("the identity provider cannot be reached")

// Begin starts a sign-in attempt for purpose at the provider of the account named
// accountName, with the purpose's payload, bound to the browser that holds binding (a random
// value the caller keeps in a cookie, see NewBinding). It returns the provider's authorization
// URL to send the browser to. An unknown account, or one without single sign-on on, is
// ErrNotEnabled.
func (s *Service) Begin(ctx context.Context, accountName string, purpose Purpose, payload, binding string) (string, error) {
	if !purpose.valid() || binding == "" {
		return "", fmt.Errorf("sso: begin: bad purpose %q or no binding", purpose)
	}
	account, st, err := s.enabled(ctx, accountName)
	if err != nil {
		return "", err
	}
	p, err := s.discover(ctx, st.Issuer)
	if err != nil {
		s.log.Warn("single sign-on: provider discovery failed", "account", account.Name, "issuer", st.Issuer, "err", err)
		return "", fmt.Errorf("%w: %v", ErrProviderUnreachable, err)
	}
	state := secret.Token() + "." + strconv.FormatInt(account.ID, 10)
	nonce, verifier := secret.Token(), oauth2.GenerateVerifier()
	now := s.now()
	l := &models.SSOLogin{StateHash: secret.Hash(state), AccountID: account.ID, Purpose: string(purpose), Payload: payload,
		Nonce: nonce, BindingHash: secret.Hash(binding), ExpiresAt: now.Add(LoginTTL), CreatedAt: now}
	l.VerifierSealed = s.box.Seal(verifier, verifierAAD(l.StateHash))
	if err := s.store.CreateSSOLogin(ctx, l); err != nil {
		return "", err
	}
	conf := s.oauth2Config(p, st, "")
	return conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// NewBinding returns a new browser binding value (for the cookie Begin's callers set).
func NewBinding() string { return secret.Token() }

// enabled loads an account by name with its provider settings, or ErrNotEnabled.
func (s *Service) enabled(ctx context.Context, accountName string) (*models.Account, *models.SSOSettings, error) {
	name := strings.ToLower(strings.TrimSpace(accountName))
	if name == "" {
		return nil, nil, ErrNotEnabled
	}
	account, err := s.store.AccountByName(ctx, name)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil, ErrNotEnabled
	}
	if err != nil {
		return nil, nil, err
	}
	if !account.SSOEnabled {
		return nil, nil, ErrNotEnabled
	}
	st, err := s.store.SSOSettings(ctx, account.ID)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil, ErrNotEnabled
	}
	return account, st, err
}

// providerTTL is how long a provider's discovery document is reused. Its signing keys are
// refetched sooner when a token names a key it does not have (go-oidc's RemoteKeySet).
const providerTTL = 10 * time.Minute

type cachedProvider struct {
	p       *oidc.Provider
	fetched time.Time
}

// discover reads an issuer's discovery document, reusing one read in the last providerTTL
// (every sign-in reads it twice: at Begin and at the callback).
func (s *Service) discover(ctx context.Context, issuer string) (*oidc.Provider, error) {
	now := time.Now()
	s.mu.Lock()
	c, ok := s.providers[issuer]
	s.mu.Unlock()
	if ok && now.Sub(c.fetched) < providerTTL {
		return c.p, nil
	}
	p, err := s.fetchProvider(ctx, issuer)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.providers[issuer] = cachedProvider{p: p, fetched: now}
	s.mu.Unlock()
	return p, nil
}

// fetchProvider reads an issuer's discovery document now; go-oidc checks that the document
// names the same issuer.
func (s *Service) fetchProvider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	return oidc.NewProvider(oidc.ClientContext(ctx, s.cfg.HTTPClient), issuer)
}

func (s *Service) oauth2Config(p *oidc.Provider, st *models.SSOSettings, clientSecret string) *oauth2.Config {
	return &oauth2.Config{ClientID: st.ClientID, ClientSecret: clientSecret, Endpoint: p.Endpoint(),
		RedirectURL: s.RedirectURI(), Scopes: strings.Fields(st.Scopes)}
}

// Callback is what the provider sent back to the redirect URI, with the browser's binding
// value (its cookie, "" when absent) and IP.
type Callback struct {
	State, Code             string
	Error, ErrorDescription string
	Binding, IP             string
}

// Complete uses the sign-in attempt of cb.State (once: a replay is refused) and, when the
// provider signed the person in, exchanges the code (with the PKCE verifier) and verifies the
// ID token. Every refusal is a *Refusal, recorded as an SSO / Sign-in Refused event with its
// reason: tampered state, replayed state, expired attempt, state from another browser,
// provider error, token exchange failed, invalid ID token, expired token, wrong audience, wrong
// nonce, no email, unverified email.
func (s *Service) Complete(ctx context.Context, cb Callback) (*Result, error) {
	now := s.now()
	stateHash := secret.Hash(cb.State)
	l, err := s.store.UseSSOLogin(ctx, stateHash, now)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return nil, s.refuseForged(ctx, cb)
	case err != nil && !errors.Is(err, store.ErrSSOLoginUsed):
		return nil, err
	}
	account, aerr := s.store.Account(ctx, l.AccountID)
	if aerr != nil {
		return nil, aerr
	}
	login := &Login{Account: account, Purpose: Purpose(l.Purpose), Payload: l.Payload}
	refuse := func(reason, message string) error {
		ref := &Refusal{Reason: reason, Message: message, Login: login}
		if err := s.refusalEvent(ctx, ref, &account.ID, cb.IP, "", nil); err != nil {
			return err
		}
		return ref
	}
	switch {
	case err != nil: // store.ErrSSOLoginUsed
		return nil, refuse("replayed state", "This sign-in was completed already: a sign-in link works once. Start again from the sign-in page.")
	case subtle.ConstantTimeCompare([]byte(secret.Hash(cb.Binding)), []byte(l.BindingHash)) != 1:
		return nil, refuse("state from another browser",
			"This sign-in was started in another browser (or its cookie was removed). Start again from the sign-in page in this browser.")
	case now.After(l.ExpiresAt):
		return nil, refuse("expired attempt", "The sign-in took longer than 10 minutes. Start again from the sign-in page.")
	case cb.Error != "":
		return nil, refuse("provider error: "+oauthErrorCode(cb.Error), providerMessage(cb.Error, cb.ErrorDescription))
	case cb.Code == "":
		return nil, refuse("no code", "The identity provider sent no authorization code. Start again from the sign-in page.")
	}
	st, err := s.store.SSOSettings(ctx, account.ID)
	if errors.Is(err, models.ErrNotFound) || (err == nil && !account.SSOEnabled) {
		return nil, refuse("single sign-on off", "Single sign-on is not turned on for this account any more. Ask your administrator.")
	}
	if err != nil {
		return nil, err
	}
	login.Settings = st
	id, reason, msg, err := s.verify(ctx, l, st, cb.Code)
	if err != nil {
		return nil, err
	}
	if reason != "" {
		return nil, refuse(reason, msg)
	}
	return &Result{Login: *login, Identity: *id, IP: cb.IP}, nil
}

// refuseForged refuses a state no attempt has: forged, or changed on the way. The account id
// after the state's dot, when it names an account, gets the event.
func (s *Service) refuseForged(ctx context.Context, cb Callback) error {
	ref := &Refusal{Reason: "tampered state",
		Message: "This sign-in is not one Onramp started, or it was changed on the way. Start again from the sign-in page."}
	var accountID *int64
	if _, after, ok := strings.Cut(cb.State, "."); ok {
		if id, err := strconv.ParseInt(after, 10, 64); err == nil {
			if a, err := s.store.Account(ctx, id); err == nil {
				accountID = &a.ID
			}
		}
	}
	if err := s.refusalEvent(ctx, ref, accountID, cb.IP, "", nil); err != nil {
		return err
	}
	return ref
}

var oauthCodeRE = regexp.MustCompile(`^[a-z_]{1,40}$`)

// oauthErrorCode is the provider's error code, or "other" when it is not one (it goes into an
// event).
func oauthErrorCode(code string) string {
	if oauthCodeRE.MatchString(code) {
		return code
	}
	return "other"
}

func providerMessage(code, description string) string {
	msg := "The identity provider did not sign you in"
	if code == "access_denied" {
		msg = "The identity provider refused the sign-in (access denied)"
	}
	if d := strings.TrimSpace(description); d != "" {
		if len(d) > 300 {
			d = d[:300]
		}
		msg += ": " + d
	}
	return msg + ". Ask your administrator if you should have access."
}

// verify exchanges code (with the attempt's PKCE verifier) and verifies the ID token. A
// refusal is (nil, reason, message, nil); err is for what the person cannot fix.
func (s *Service) verify(ctx context.Context, l *models.SSOLogin, st *models.SSOSettings, code string) (*Identity, string, string, error) {
	const again = " Start again from the sign-in page; if it keeps happening, tell your administrator."
	clientSecret, err := s.box.Open(st.SecretSealed, secretAAD(st.AccountID))
	if err != nil {
		return nil, "", "", fmt.Errorf("sso: open client secret: %w", err)
	}
	verifier, err := s.box.Open(l.VerifierSealed, verifierAAD(l.StateHash))
	if err != nil {
		return nil, "", "", fmt.Errorf("sso: open verifier: %w", err)
	}
	ctx = oidc.ClientContext(ctx, s.cfg.HTTPClient)
	p, err := s.discover(ctx, st.Issuer)
	if err != nil {
		s.log.Warn("single sign-on: provider discovery failed", "issuer", st.Issuer, "err", err)
		return nil, "provider unreachable", "The identity provider cannot be reached right now." + again, nil
	}
	tok, err := s.oauth2Config(p, st, clientSecret).Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		// Only the OAuth error code is logged: the response body is the provider's business.
		var re *oauth2.RetrieveError
		detail := "no answer"
		if errors.As(err, &re) {
			detail = oauthErrorCode(re.ErrorCode)
		}
		s.log.Warn("single sign-on: token exchange failed", "issuer", st.Issuer, "error_code", detail)
		return nil, "token exchange failed", "The identity provider did not accept Onramp's request for your sign-in." + again, nil
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, "no ID token", "The identity provider sent no ID token (is the openid scope configured?)." + again, nil
	}
	// The audience is checked below, where a wrong one can be told apart from a bad signature.
	idt, err := p.Verifier(&oidc.Config{ClientID: st.ClientID, SkipClientIDCheck: true, Now: s.now}).Verify(ctx, raw)
	var expired *oidc.TokenExpiredError
	switch {
	case errors.As(err, &expired):
		return nil, "expired token", "The identity provider's answer had expired (are the clocks right?)." + again, nil
	case err != nil:
		s.log.Warn("single sign-on: ID token refused", "issuer", st.Issuer, "err", err)
		return nil, "invalid ID token", "The identity provider's answer could not be verified." + again, nil
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, "invalid ID token", "The identity provider's answer could not be read." + again, nil
	}
	azp, _ := claims["azp"].(string)
	if !slices.Contains(idt.Audience, st.ClientID) || (len(idt.Audience) > 1 && azp != st.ClientID) {
		return nil, "wrong audience", "The identity provider's answer was meant for another application." + again, nil
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(l.Nonce)) != 1 {
		return nil, "wrong nonce", "The identity provider's answer does not belong to this sign-in." + again, nil
	}
	if _, ok := claims[st.EmailClaim]; !ok {
		s.mergeUserInfo(ctx, p, tok, idt.Subject, claims)
	}
	id := &Identity{Issuer: idt.Issuer, Subject: idt.Subject, GivenName: str(claims["given_name"]), FamilyName: str(claims["family_name"])}
	id.Email = models.NormalizeEmail(str(claims[st.EmailClaim]))
	if id.Email == "" || !strings.Contains(id.Email, "@") {
		return nil, "no email", fmt.Sprintf("The identity provider did not send an email address (claim %q). Ask your administrator.", st.EmailClaim), nil
	}
	verified, sent := claims["email_verified"]
	id.EmailVerified = verified == true || verified == "true"
	if !id.EmailVerified && (sent || !st.NoEmailVerified) {
		return nil, "unverified email", "Your email address is not verified at the identity provider. Verify it there, then sign in again.", nil
	}
	if st.GroupsClaim != "" {
		id.Groups = strs(claims[st.GroupsClaim])
	}
	return id, "", "", nil
}

// mergeUserInfo adds the userinfo endpoint's claims the ID token lacks (some providers keep
// email out of the ID token), when the userinfo is about the same subject.
func (s *Service) mergeUserInfo(ctx context.Context, p *oidc.Provider, tok *oauth2.Token, subject string, claims map[string]any) {
	ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || ui.Subject != subject {
		return
	}
	var more map[string]any
	if ui.Claims(&more) != nil {
		return
	}
	for k, v := range more {
		if _, ok := claims[k]; !ok {
			claims[k] = v
		}
	}
}

func str(v any) string {
	s, _ := v.(string)
	return strings.TrimSpace(s)
}

// strs reads a groups claim: a list of strings or one string.
func strs(v any) []string {
	switch g := v.(type) {
	case string:
		return []string{g}
	case []any:
		out := make([]string, 0, len(g))
		for _, x := range g {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
