// Package portal owns the MyVPN end-user portal (SPEC §6): activating an account from an
// invitation link, portal sign-in with account name, email, password and TOTP code, server-side
// portal sessions, password changes and TOTP enrollment and removal, with their rate limits and
// events. It knows nothing of HTTP: callers pass the client's IP.
//
// It mirrors models/auth (the console's sign-in) on purpose, with its own tables, limits and
// sessions: a console session never opens the portal and the other way round.
package portal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"onramp/models"
	"onramp/models/password"
	"onramp/models/ratelimit"
	"onramp/models/secret"
	"onramp/models/store"
)

// Config holds the session timeouts; zero values take the defaults.
type Config struct {
	IdleTimeout     time.Duration // default 30 minutes
	AbsoluteTimeout time.Duration // default 12 hours
}

// Failure limits (documented in the README). Only failures spend tokens, so a user who gets it
// right is never slowed down.
const (
	// Portal sign-in, per (account, email): a password guesser aiming at one user.
	SignInFailBurst = 5
	SignInFailEvery = 3 * time.Minute
	// Portal sign-in, per client IP: one client spraying many users.
	IPFailBurst = 30
	IPFailEvery = 20 * time.Second
	// Activation POSTs per client IP, counted on links that do not work (unknown, used, expired,
	// replaced): guessing links. Password-rule mistakes are not counted: a whole office behind
	// one NAT address activates on the same day.
	ActivationFailBurst = 20
	ActivationFailEvery = 30 * time.Second
	// Secret checks of a signed-in user (current password, authenticator code), per user: a
	// stolen session must not be able to brute-force the code that removes MFA.
	CheckFailBurst = 5
	CheckFailEvery = time.Minute
)

// touchEvery limits session writes: activity is recorded at most once a minute.
const touchEvery = time.Minute

// Errors of portal sign-in beyond models.ErrUnauthorized. They wrap the models errors, so that
// the HTTP layer's one error handler maps them even where a handler does not look closer.
var (
	// ErrMFARequired: the password was right but the user has MFA and sent no code.
	ErrMFARequired = fmt.Errorf("%w: authenticator code required", models.ErrUnauthorized)
	// ErrWrongCode: the password was right but the code was not (or was used already).
	ErrWrongCode = fmt.Errorf("%w: wrong authenticator code", models.ErrUnauthorized)
	// ErrNotActivated: the user has not set a password from an invitation yet.
	ErrNotActivated = fmt.Errorf("%w: account not activated", models.ErrForbidden)
	// ErrUserDisabled: the password was right but an admin disabled the user.
	ErrUserDisabled = fmt.Errorf("%w: user disabled", models.ErrForbidden)
)

// Service implements the portal.
type Service struct {
	store  *store.Store
	hasher *password.Hasher
	box    *sealer
	cfg    Config
	now    func() time.Time

	byEmail      *ratelimit.Limiter
	byIP         *ratelimit.Limiter
	activationIP *ratelimit.Limiter
	checks       *ratelimit.Limiter
}

// New builds the service. TOTP secrets are encrypted with a key derived from keys for "totp".
func New(s *store.Store, h *password.Hasher, keys *secret.Keys, cfg Config) *Service {
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.AbsoluteTimeout == 0 {
		cfg.AbsoluteTimeout = 12 * time.Hour
	}
	return &Service{
		store: s, hasher: h, box: newSealer(keys.Derive("totp")), cfg: cfg,
		now:          func() time.Time { return time.Now().UTC() },
		byEmail:      ratelimit.New(SignInFailBurst, SignInFailEvery),
		byIP:         ratelimit.New(IPFailBurst, IPFailEvery),
		activationIP: ratelimit.New(ActivationFailBurst, ActivationFailEvery),
		checks:       ratelimit.New(CheckFailBurst, CheckFailEvery),
	}
}

// WithClock replaces the clock (tests); TOTP codes are checked against it too.
func (s *Service) WithClock(now func() time.Time) *Service {
	s.now = now
	for _, l := range []*ratelimit.Limiter{s.byEmail, s.byIP, s.activationIP, s.checks} {
		l.WithClock(now)
	}
	return s
}

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

// Current is the portal user signed in on a request.
type Current struct {
	User      *models.SDPUser
	Account   *models.Account
	SessionID string
}

// SignInInput is what the portal sign-in form asks for.
type SignInInput struct {
	Account, Email, Password, TOTP string
}

// SignIn checks account name, email, password and, for users with MFA, the authenticator code
// (see Authenticate), then starts a portal session.
func (s *Service) SignIn(ctx context.Context, in SignInInput, ip, userAgent string) (*Current, string, error) {
	account, user, via, err := s.Authenticate(ctx, in, ip, models.EventPortal)
	if err != nil {
		return nil, "", err
	}
	return s.startSession(ctx, user, account, ip, userAgent, via)
}

// Authenticate is the sign-in check the portal and the VPN client API share (SPEC §6, §9): the
// same password opens both, so both go through the same checks, the same failure budget and
// the same answers. Unknown account, unknown email and wrong password all give
// models.ErrUnauthorized and cost the same time. The more specific errors (ErrMFARequired,
// ErrWrongCode, ErrUserDisabled) come only after the password was right; ErrNotActivated says
// the user exists but has no password yet. Every failure spends a token of both the
// (account, email) and the IP failure budget and writes a Sign-in Failed event of type
// failType (Portal or Client). via says how the user proved who they are, for events.
func (s *Service) Authenticate(ctx context.Context, in SignInInput, ip string, failType models.EventType) (*models.Account, *models.SDPUser, string, error) {
	accountName := strings.ToLower(strings.TrimSpace(in.Account))
	email := models.NormalizeEmail(in.Email)
	key := accountName + "/" + email
	if err := s.checkSignInLimits(key, ip); err != nil {
		return nil, nil, "", err
	}
	account, user, err := s.findUser(ctx, accountName, email)
	if err != nil {
		return nil, nil, "", err
	}
	hash := ""
	if user != nil {
		hash = user.PasswordHash
	}
	pwOK := s.hasher.Verify(in.Password, hash) // runs for unknown users too, so timing does not tell

	reason, fail := "", error(nil)
	step := int64(0)
	switch {
	case account == nil:
		reason, fail = "unknown account", models.ErrUnauthorized
	case user == nil:
		reason, fail = "unknown email", models.ErrUnauthorized
	case user.Activation != models.ActivationActive && (hash == "" || pwOK):
		reason, fail = "not activated", ErrNotActivated
	case !pwOK:
		reason, fail = "wrong password", models.ErrUnauthorized
	case user.Status != models.UserEnabled:
		reason, fail = "user disabled", ErrUserDisabled
	case user.MFAConfigured && strings.TrimSpace(in.TOTP) == "":
		reason, fail = "authenticator code missing", ErrMFARequired
	case user.MFAConfigured:
		if step, err = s.checkCode(ctx, user, in.TOTP); err != nil {
			return nil, nil, "", err
		}
		if step == 0 {
			reason, fail = "wrong authenticator code", ErrWrongCode
		}
	}
	if fail != nil {
		s.byEmail.Fail(key)
		s.byIP.Fail(ip)
		if err := s.store.CreateEvent(ctx, failureEvent(failType, account, user, email, ip, reason)); err != nil {
			return nil, nil, "", err
		}
		return nil, nil, "", fail
	}
	s.byEmail.Reset(key)
	via := "password"
	if user.MFAConfigured {
		via = "password and authenticator code"
	}
	return account, user, via, nil
}

// findUser loads the account and the user; either is nil when it does not exist.
func (s *Service) findUser(ctx context.Context, accountName, email string) (*models.Account, *models.SDPUser, error) {
	if accountName == "" || email == "" {
		return nil, nil, nil
	}
	account, err := s.store.AccountByName(ctx, accountName)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	user, err := s.store.UserByEmail(ctx, account.ID, email)
	if errors.Is(err, models.ErrNotFound) {
		return account, nil, nil
	}
	return account, user, err
}

// failureEvent records a failed sign-in of type t: the actor is the user (portal) or their VPN
// client (client API), or, with no SDP user to point at, whoever typed this email.
func failureEvent(t models.EventType, account *models.Account, user *models.SDPUser, email, ip, reason string) *models.Event {
	details := map[string]string{"reason": reason}
	actor := models.Actor{Type: models.ActorUser, Label: email, IP: ip}
	if user != nil {
		actor = models.UserActor(user, ip)
	}
	if t == models.EventClient {
		actor.Type = models.ActorClient
	}
	if user != nil {
		return models.UserEvent(user, t, models.SubSignInFailed, actor, details)
	}
	var accountID *int64
	if account != nil {
		accountID = &account.ID
	}
	return models.NewEvent(accountID, t, models.SubSignInFailed, actor, email, details)
}

func (s *Service) checkSignInLimits(key, ip string) error {
	okE, waitE := s.byEmail.Check(key)
	okI, waitI := s.byIP.Check(ip)
	if okE && okI {
		return nil
	}
	return &models.RateLimitError{RetryAfter: max(waitE, waitI)}
}

// startSession creates a new session (a new id at every sign-in) and returns its token.
func (s *Service) startSession(ctx context.Context, u *models.SDPUser, account *models.Account, ip, userAgent, via string) (*Current, string, error) {
	token := secret.Token()
	now := s.now()
	if len(userAgent) > 255 {
		userAgent = userAgent[:255]
	}
	sess := &models.PortalSession{ID: secret.Hash(token), SDPUserID: u.ID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.cfg.AbsoluteTimeout), IP: ip, UserAgent: userAgent}
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreatePortalSession(ctx, sess); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.UserEvent(u, models.EventPortal, models.SubSignedIn, models.UserActor(u, ip),
			map[string]string{"via": via}))
	})
	if err != nil {
		return nil, "", err
	}
	return &Current{User: u, Account: account, SessionID: sess.ID}, token, nil
}

// Resolve finds who a portal session token belongs to. A token that is unknown (signed out,
// or ended by an admin's Reset password or Disable), expired (idle or absolute), or whose user
// is disabled or no longer active gives models.ErrUnauthorized.
func (s *Service) Resolve(ctx context.Context, token string) (*Current, error) {
	if token == "" {
		return nil, models.ErrUnauthorized
	}
	id := secret.Hash(token)
	sess, err := s.store.PortalSession(ctx, id)
	if err != nil {
		return nil, unauthorizedIfMissing(err)
	}
	now := s.now()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) > s.cfg.IdleTimeout {
		_ = s.store.DeletePortalSession(ctx, id)
		return nil, models.ErrUnauthorized
	}
	u, err := s.store.PortalUser(ctx, sess.SDPUserID)
	if err != nil {
		return nil, unauthorizedIfMissing(err)
	}
	if u.Status != models.UserEnabled || u.Activation != models.ActivationActive {
		_ = s.store.DeletePortalSession(ctx, id)
		return nil, models.ErrUnauthorized
	}
	account, err := s.store.Account(ctx, u.AccountID)
	if err != nil {
		return nil, err
	}
	if now.Sub(sess.LastSeenAt) > touchEvery {
		if err := s.store.TouchPortalSession(ctx, id, now); err != nil {
			return nil, err
		}
	}
	return &Current{User: u, Account: account, SessionID: id}, nil
}

// SignOut ends the current session.
func (s *Service) SignOut(ctx context.Context, cur *Current, ip string) error {
	return s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.DeletePortalSession(ctx, cur.SessionID); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.UserEvent(cur.User, models.EventPortal, models.SubSignedOut,
			models.UserActor(cur.User, ip), nil))
	})
}

// Discard deletes a session without an event (a browser signing in again over an old session).
func (s *Service) Discard(ctx context.Context, sessionID string) error {
	return s.store.DeletePortalSession(ctx, sessionID)
}

// ChangePassword sets a new password after checking the current one, and ends every other
// portal session of the user.
func (s *Service) ChangePassword(ctx context.Context, cur *Current, current, next, ip string) error {
	if err := s.checkLimit(cur.User); err != nil {
		return err
	}
	if !s.hasher.Verify(current, cur.User.PasswordHash) {
		s.checks.Fail(userKey(cur.User))
		return models.NewValidationError("current_password", "This is not your current password.")
	}
	if m := password.Validate(next); m != "" {
		return models.NewValidationError("password", m)
	}
	hash, err := s.hasher.Hash(next)
	if err != nil {
		return err
	}
	u := cur.User
	return s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.UpdateUser(ctx, u.AccountID, u.ID, map[string]any{"password_hash": hash}); err != nil {
			return err
		}
		if err := tx.DeletePortalSessions(ctx, u.ID, cur.SessionID); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.UserEvent(u, models.EventPortal, models.SubPasswordChanged,
			models.UserActor(u, ip), map[string]string{"how": "changed on the portal"}))
	})
}

// checkLimit refuses a signed-in user's secret check after too many failures.
func (s *Service) checkLimit(u *models.SDPUser) error { return s.budget(u).Check() }

func userKey(u *models.SDPUser) string { return strconv.FormatInt(u.ID, 10) }

// PurgeSessions deletes expired portal sessions; the server calls it now and then.
func (s *Service) PurgeSessions(ctx context.Context) (int64, error) {
	return s.store.DeleteExpiredPortalSessions(ctx, s.now(), s.cfg.IdleTimeout)
}

func goneIfMissing(err error) error {
	if errors.Is(err, models.ErrNotFound) {
		return models.ErrGone
	}
	return err
}

func unauthorizedIfMissing(err error) error {
	if errors.Is(err, models.ErrNotFound) {
		return models.ErrUnauthorized
	}
	return err
}
