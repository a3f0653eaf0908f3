// Package portal owns the MyVPN end-user portal (docs/admin-guide.md): activating an account from an
// invitation link, portal sign-in with account name, email, password and TOTP code, server-side
// portal sessions, password changes and TOTP enrollment and removal, with their rate limits and
// events. It knows nothing of HTTP: callers pass the client's IP.
//
// Sessions, sign-in budgets and password changes work as the console's (models/sessions), with
// a manager of the portal's own: a console session never opens the portal and the other way
// round.
package portal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"onramp/models"
	"onramp/models/password"
	"onramp/models/ratelimit"
	"onramp/models/secret"
	"onramp/models/sessions"
	"onramp/models/store"
)

// Activation POSTs per client IP, counted on links that do not work (unknown, used, expired,
// replaced): guessing links. Password-rule mistakes are not counted: a whole office behind one
// NAT address activates on the same day. (Sign-in and secret-check budgets are
// models/sessions'; all are documented in docs/security.md.)
const (
	ActivationFailBurst = 20
	ActivationFailEvery = 30 * time.Second
)

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
	store    *store.Store
	hasher   *password.Hasher
	box      *sealer
	now      func() time.Time
	sessions *sessions.Manager // portal sessions, and the sign-in and secret-check budgets

	activationIP *ratelimit.Limiter
}

// New builds the service. TOTP secrets are encrypted with a key derived from keys for "totp".
func New(s *store.Store, h *password.Hasher, keys *secret.Keys, cfg sessions.Config) *Service {
	return &Service{
		store: s, hasher: h, box: newSealer(keys.DeriveAll("totp")),
		now:          func() time.Time { return time.Now().UTC() },
		sessions:     sessions.New(s, models.PortalSession, h, cfg),
		activationIP: ratelimit.New(ActivationFailBurst, ActivationFailEvery).Shares(s, "portal.activation.ip"),
	}
}

// WithClock replaces the clock (tests); TOTP codes are checked against it too.
func (s *Service) WithClock(now func() time.Time) *Service {
	s.now = now
	s.sessions.WithClock(now)
	s.activationIP.WithClock(now)
	return s
}

// Sessions is the portal's session manager (timeouts, the purge job).
func (s *Service) Sessions() *sessions.Manager { return s.sessions }

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

// Authenticate is the sign-in check the portal and the VPN client API share: the
// same password opens both, so both go through the same checks, the same failure budget and
// the same answers. Unknown account, unknown email and wrong password all give
// models.ErrUnauthorized and cost the same time; so does a user who has no password yet (an
// invitation not used), whatever is typed: which users exist is not told to someone who does
// not know the password. The more specific errors (ErrNotActivated, ErrUserDisabled,
// ErrMFARequired, ErrWrongCode) come only after the password was right. Every attempt takes a
// token of both the (account, email) and the IP failure budget before the check; a failure
// keeps them spent and writes a Sign-in Failed event of type failType (Portal or Client). via
// says how the user proved who they are, for events.
func (s *Service) Authenticate(ctx context.Context, in SignInInput, ip string, failType models.EventType) (account *models.Account, user *models.SDPUser, via string, err error) {
	accountName := strings.ToLower(strings.TrimSpace(in.Account))
	email := models.NormalizeEmail(in.Email)
	attempt, err := s.sessions.BeginSignIn(accountName+"/"+email, ip)
	if err != nil {
		return nil, nil, "", err
	}
	failed := false
	defer func() { attempt.Finish(err, failed) }()
	account, user, err = s.findUser(ctx, accountName, email)
	if err != nil {
		return nil, nil, "", err
	}
	hash := ""
	if user != nil {
		hash = user.PasswordHash
	}
	pwOK, err := s.hasher.Verify(in.Password, hash) // runs for unknown users too, so timing does not tell
	if err != nil {
		return nil, nil, "", err
	}

	reason, fail := "", error(nil)
	step := int64(0)
	switch {
	case account == nil:
		reason, fail = "unknown account", models.ErrUnauthorized
	case user == nil:
		reason, fail = "unknown email", models.ErrUnauthorized
	case hash == "":
		reason, fail = "not activated", models.ErrUnauthorized
	case !pwOK:
		reason, fail = "wrong password", models.ErrUnauthorized
	case user.Activation != models.ActivationActive:
		reason, fail = "not activated", ErrNotActivated
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
		failed = true
		if err := s.store.CreateEvent(ctx, failureEvent(failType, account, user, email, ip, reason)); err != nil {
			return nil, nil, "", err
		}
		return nil, nil, "", fail
	}
	via = "password"
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

// startSession creates a new session (a new id at every sign-in) and returns its token.
func (s *Service) startSession(ctx context.Context, u *models.SDPUser, account *models.Account, ip, userAgent, via string) (*Current, string, error) {
	var token string
	var sess *models.Session
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		var err error
		if token, sess, err = s.sessions.Start(ctx, tx, u.ID, ip, userAgent); err != nil {
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
	cur := &Current{}
	sess, err := s.sessions.Resolve(ctx, token, func(ctx context.Context, userID int64) error {
		u, err := s.store.PortalUser(ctx, userID)
		if err != nil {
			return err
		}
		if u.Status != models.UserEnabled || u.Activation != models.ActivationActive {
			return models.ErrUnauthorized
		}
		cur.User = u
		cur.Account, err = s.store.Account(ctx, u.AccountID)
		return err
	})
	if err != nil {
		return nil, err
	}
	cur.SessionID = sess.ID
	return cur, nil
}

// SignOut ends the current session.
func (s *Service) SignOut(ctx context.Context, cur *Current, ip string) error {
	return s.store.Tx(ctx, func(tx *store.Store) error {
		if err := s.sessions.End(ctx, tx, cur.SessionID); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.UserEvent(cur.User, models.EventPortal, models.SubSignedOut,
			models.UserActor(cur.User, ip), nil))
	})
}

// Discard deletes a session without an event (a browser signing in again over an old session).
func (s *Service) Discard(ctx context.Context, sessionID string) error {
	return s.sessions.End(ctx, s.store, sessionID)
}

// ChangePassword sets a new password after checking the current one (against the user's
// budget of secret checks), and ends every other portal session of the user.
func (s *Service) ChangePassword(ctx context.Context, cur *Current, current, next, ip string) error {
	hash, err := s.sessions.NewPassword(cur.User.ID, cur.User.PasswordHash, current, next,
		cur.User.Email, cur.User.FullName(), cur.Account.Name)
	if err != nil {
		return err
	}
	u := cur.User
	return s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.SetUserPassword(ctx, u.AccountID, u.ID, hash); err != nil {
			return err
		}
		if err := s.sessions.EndOthers(ctx, tx, u.ID, cur.SessionID); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.UserEvent(u, models.EventPortal, models.SubPasswordChanged,
			models.UserActor(u, ip), map[string]string{"how": "changed on the portal"}))
	})
}

func goneIfMissing(err error) error {
	if errors.Is(err, models.ErrNotFound) {
		return models.ErrGone
	}
	return err
}

// SignInSSO signs in a user the account's identity provider vouched for (models/sso matched
// them): the first time it activates them, without a password (a User / Activated event with
// via "single sign-on"), then it starts a portal session. The provider did the authentication,
// its own MFA included: the portal's TOTP is not asked for.
func (s *Service) SignInSSO(ctx context.Context, account *models.Account, u *models.SDPUser, ip, userAgent string) (*Current, string, error) {
	if u.Activation != models.ActivationActive {
		err := s.store.Tx(ctx, func(tx *store.Store) error {
			if err := tx.MarkUserActive(ctx, u.AccountID, u.ID); err != nil {
				return err
			}
			if err := tx.RetireUserTokens(ctx, models.TokenUserActivation, []int64{u.ID}, s.now()); err != nil {
				return err
			}
			return tx.CreateEvent(ctx, models.UserEvent(u, models.EventUser, models.SubUserActivated, models.UserActor(u, ip),
				map[string]string{"via": "single sign-on"}))
		})
		if err != nil {
			return nil, "", err
		}
		u.Activation = models.ActivationActive
	}
	return s.startSession(ctx, u, account, ip, userAgent, "single sign-on")
}
