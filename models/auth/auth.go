// Package auth owns how people get into the console: the first-run setup link, admin sign-in with
// its rate limits and optional two-step verification (TOTP), server-side sessions with idle and
// absolute timeouts, one-time set-password links and password changes. It knows nothing of
// HTTP: callers pass the client's IP.
package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"onramp/models"
	"onramp/models/password"
	"onramp/models/secret"
	"onramp/models/sessions"
	"onramp/models/store"
	"onramp/models/twostep"
)

// Config holds the timeouts; zero values take the defaults.
type Config struct {
	Sessions        sessions.Config
	SetupLinkTTL    time.Duration // default 24 hours
	PasswordLinkTTL time.Duration // default 72 hours
}

// Errors of sign-in beyond models.ErrUnauthorized, returned only after the password was right,
// so that they tell nothing to someone without it. They wrap models.ErrUnauthorized.
var (
	// ErrMFARequired: the admin has two-step verification and sent no code.
	ErrMFARequired = fmt.Errorf("%w: authenticator code required", models.ErrUnauthorized)
	// ErrWrongCode: the code was wrong or was used already.
	ErrWrongCode = fmt.Errorf("%w: wrong authenticator code", models.ErrUnauthorized)
	// ErrPasswordOff: the account turned password sign-in off for admins who are not
	// break-glass admins: they sign in with the identity provider.
	ErrPasswordOff = fmt.Errorf("%w: password sign-in is turned off", models.ErrForbidden)
)

// Service implements sign-in and sessions.
type Service struct {
	store    *store.Store
	hasher   *password.Hasher
	cfg      Config
	now      func() time.Time
	sessions *sessions.Manager // console sessions, and the sign-in and secret-check budgets
	box      *twostep.Sealer   // seals admins' TOTP keys and pending enrollments
	setupKey []byte            // makes the setup link (setupToken)
}

// New builds the service. Admins' TOTP keys are encrypted with a key derived from keys for
// "admin-totp" (the portal's users have their own, "totp").
func New(s *store.Store, h *password.Hasher, keys *secret.Keys, cfg Config) *Service {
	if cfg.SetupLinkTTL == 0 {
		cfg.SetupLinkTTL = 24 * time.Hour
	}
	if cfg.PasswordLinkTTL == 0 {
		cfg.PasswordLinkTTL = 72 * time.Hour
	}
	sm := sessions.New(s, models.ConsoleSession, h, cfg.Sessions)
	cfg.Sessions = sm.Config()
	return &Service{
		store: s, hasher: h, cfg: cfg, now: func() time.Time { return time.Now().UTC() },
		sessions: sm,
		box:      twostep.NewSealer(keys.DeriveAll("admin-totp")...),
		setupKey: keys.Derive("setup-link"),
	}
}

// WithClock replaces the clock (tests); TOTP codes are checked against it too.
func (s *Service) WithClock(now func() time.Time) *Service {
	s.now = now
	s.sessions.WithClock(now)
	return s
}

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

// Sessions is the console's session manager (for the purge job).
func (s *Service) Sessions() *sessions.Manager { return s.sessions }

// Current is who is signed in on a request.
type Current struct {
	Admin     *models.Admin
	Account   *models.Account
	SessionID string
}

// EnsureSetupLink returns the setup token while the deployment has no admin yet, or "" when it
// has one. There is one link at a time, whichever instance starts and however often: while the
// live link works, every start returns it again; once it expired (or was made with another
// secret) a new one replaces it.
func (s *Service) EnsureSetupLink(ctx context.Context) (string, error) {
	token, err := s.ensureSetupLink(ctx)
	if errors.Is(err, models.ErrConflict) {
		// Another instance made the link meanwhile (one unused setup token is a unique index).
		token, err = s.ensureSetupLink(ctx)
	}
	return token, err
}

func (s *Service) ensureSetupLink(ctx context.Context) (string, error) {
	token := ""
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		n, err := tx.CountAdmins(ctx)
		if err != nil || n > 0 {
			return err
		}
		now := s.now()
		live, err := tx.LiveSetupToken(ctx, now)
		if err == nil && live.TokenHash == secret.Hash(s.setupToken(live.ExpiresAt)) {
			token = s.setupToken(live.ExpiresAt)
			return nil
		}
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return err
		}
		if err := tx.RetireTokens(ctx, models.TokenSetup, 0, now); err != nil {
			return err
		}
		expires := now.Add(s.cfg.SetupLinkTTL).Truncate(time.Second)
		token = s.setupToken(expires)
		return tx.CreateToken(ctx, &models.OneTimeToken{Purpose: models.TokenSetup, TokenHash: secret.Hash(token), ExpiresAt: expires})
	})
	return token, err
}

// setupToken is the setup link's token: an HMAC of its expiry under a key derived from the
// secret, so that an instance that did not make the link can print it again, and nobody
// without the secret can.
func (s *Service) setupToken(expires time.Time) string {
	m := hmac.New(sha256.New, s.setupKey)
	m.Write([]byte(strconv.FormatInt(expires.Unix(), 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckSetupLink reports whether token is a live setup link (models.ErrGone if not).
func (s *Service) CheckSetupLink(ctx context.Context, token string) error {
	n, err := s.store.CountAdmins(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return models.ErrGone
	}
	if _, err := s.store.ValidToken(ctx, models.TokenSetup, secret.Hash(token), s.now()); err != nil {
		return goneIfMissing(err)
	}
	return nil
}

// SetupInput is what the first-run form asks for.
type SetupInput struct {
	Account, Email, Name, Password string
}

// Normalize lowercases the account name and email.
func (in *SetupInput) Normalize() {
	in.Account = models.NormalizeEmail(in.Account) // same trim + lowercase
	in.Email = models.NormalizeEmail(in.Email)
}

// Validate returns the input's field errors.
func (in SetupInput) Validate() error {
	v := &models.ValidationError{}
	if m := models.ValidateAccountName(in.Account); m != "" {
		v.Add("account", m)
	}
	if m := models.ValidateEmail(in.Email); m != "" {
		v.Add("email", m)
	}
	if m := models.ValidateName(in.Name); m != "" {
		v.Add("name", m)
	}
	if m := password.Validate(in.Password, in.Email, in.Name, in.Account); m != "" {
		v.Add("password", m)
	}
	return v.OrNil()
}

// CompleteSetup uses a setup link: it creates the account and its first admin and signs them in.
// The link is checked before the form, so that only its holder gets the password judged.
func (s *Service) CompleteSetup(ctx context.Context, token string, in SetupInput, ip, userAgent string) (*Current, string, error) {
	if err := s.CheckSetupLink(ctx, token); err != nil {
		return nil, "", err
	}
	in.Normalize()
	if err := in.Validate(); err != nil {
		return nil, "", err
	}
	hash, err := s.hasher.Hash(in.Password)
	if err != nil {
		return nil, "", err
	}
	var admin *models.Admin
	var account *models.Account
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		now := s.now()
		t, err := tx.ValidToken(ctx, models.TokenSetup, secret.Hash(token), now)
		if err != nil {
			return goneIfMissing(err)
		}
		if err := tx.UseToken(ctx, t.ID, now); err != nil {
			return goneIfMissing(err)
		}
		if n, err := tx.CountAdmins(ctx); err != nil || n > 0 {
			if err == nil {
				err = models.ErrGone
			}
			return err
		}
		account = models.NewAccount(in.Account)
		if err := tx.CreateAccount(ctx, account); err != nil {
			return err
		}
		admin = &models.Admin{AccountID: account.ID, Email: in.Email, Name: in.Name, Role: models.RoleAdmin,
			Status: models.AdminActive, PasswordHash: hash}
		if err := tx.CreateAdmin(ctx, admin); err != nil {
			return err
		}
		actor := models.AdminActor(admin, ip)
		if err := tx.CreateEvent(ctx, models.NewEvent(&account.ID, models.EventAdmin, models.SubAccountCreated, actor, admin.Email,
			map[string]string{"account": account.Name})); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.NewEvent(&account.ID, models.EventAdmin, models.SubAdminCreated, actor, admin.Email,
			map[string]string{"role": string(admin.Role), "via": "setup link"}))
	})
	if err != nil {
		return nil, "", err
	}
	return s.startSession(ctx, admin, account, ip, userAgent, nil)
}

// SignInInput is what the sign-in form asks for; TOTP is the authenticator code, needed only
// by admins who turned two-step verification on.
type SignInInput struct {
	Email, Password, TOTP string
}

// MaxAccountsPerEmail is how many of an email's admins (one per account) a sign-in checks the
// password against: the most recently signed in first. Each check is a password hash.
const MaxAccountsPerEmail = 20

// SignIn checks an email, a password and, for an admin with two-step verification, the
// authenticator code. An email may be an admin of several accounts, each with its own password:
// the password picks the account (the one signed in to last when two share it). A wrong
// password, an unknown email or a disabled admin all give models.ErrUnauthorized; only after
// the right password does a missing code give ErrMFARequired and a wrong or replayed one
// ErrWrongCode, or an account that turned password sign-in off give ErrPasswordOff (to all
// but its break-glass admins). Every attempt takes a token of both the email's and the IP's failure budget
// before the check; a failure keeps them spent and writes a Sign-in Failed event to the account
// of each admin it was against (or to none for an unknown email).
func (s *Service) SignIn(ctx context.Context, in SignInInput, ip, userAgent string) (cur *Current, token string, err error) {
	email := models.NormalizeEmail(in.Email)
	attempt, err := s.sessions.BeginSignIn(email, ip)
	if err != nil {
		return nil, "", err
	}
	failed := false
	defer func() { attempt.Finish(err, failed) }()
	candidates, err := s.store.AdminsByEmail(ctx, email, MaxAccountsPerEmail)
	if err != nil {
		return nil, "", err
	}
	admin, err := s.matchPassword(candidates, in.Password)
	if err != nil {
		return nil, "", err
	}
	var events []*models.Event
	failure := func(accountID *int64, reason string) {
		events = append(events, models.NewEvent(accountID, models.EventAdmin, models.SubSignInFailed,
			models.Actor{Type: models.ActorSystem, IP: ip}, email, map[string]string{"reason": reason}))
	}
	fail := models.ErrUnauthorized
	passwordOff := false
	if admin != nil {
		if passwordOff, err = s.passwordOff(ctx, admin); err != nil {
			return nil, "", err
		}
	}
	switch {
	case passwordOff:
		account, err := s.store.Account(ctx, admin.AccountID)
		if err != nil {
			return nil, "", err
		}
		fail = &PasswordOffError{Account: account.Name}
		failure(&admin.AccountID, "password sign-in turned off: not a break-glass admin")
	case admin == nil && len(candidates) == 0:
		failure(nil, "unknown email")
	case admin == nil:
		for i := range candidates {
			failure(&candidates[i].AccountID, mismatch(&candidates[i]))
		}
	case admin.HasTOTP() && strings.TrimSpace(in.TOTP) == "":
		fail = ErrMFARequired
		failure(&admin.AccountID, "authenticator code missing")
	case admin.HasTOTP():
		step, err := s.checkCode(ctx, admin, in.TOTP)
		if err != nil {
			return nil, "", err
		}
		if step == 0 {
			fail = ErrWrongCode
			failure(&admin.AccountID, "wrong authenticator code")
		}
	}
	if len(events) > 0 {
		failed = !passwordOff // the password was right: not a guess
		if err := s.store.CreateEvents(ctx, events); err != nil {
			return nil, "", err
		}
		return nil, "", fail
	}
	account, err := s.store.Account(ctx, admin.AccountID)
	if err != nil {
		return nil, "", err
	}
	return s.startSession(ctx, admin, account, ip, userAgent, nil)
}

// matchPassword returns the first of the candidates that may sign in (enabled, with a password
// set) whose password pw is, or nil. Each check takes a hashing slot. With no candidate to
// check it still hashes once, so that an unknown email takes as long as a known one.
func (s *Service) matchPassword(candidates []models.Admin, pw string) (*models.Admin, error) {
	checked := false
	for i := range candidates {
		a := &candidates[i]
		if a.Status != models.AdminActive || !a.HasPassword() {
			continue
		}
		checked = true
		ok, err := s.hasher.Verify(pw, a.PasswordHash)
		if err != nil {
			return nil, err
		}
		if ok {
			return a, nil
		}
	}
	if !checked {
		_, err := s.hasher.Verify(pw, "")
		return nil, err
	}
	return nil, nil
}

// mismatch is why a sign-in with an admin's email did not get into its account.
func mismatch(a *models.Admin) string {
	switch {
	case a.Status != models.AdminActive:
		return "admin disabled"
	case !a.HasPassword():
		return "password not set"
	}
	return "wrong password"
}

// startSession creates a new session (a new id at every sign-in) and returns its token; details
// go into the Signed In event.
func (s *Service) startSession(ctx context.Context, admin *models.Admin, account *models.Account, ip, userAgent string, details map[string]string) (*Current, string, error) {
	var token string
	var sess *models.Session
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		var err error
		if token, sess, err = s.sessions.Start(ctx, tx, admin.ID, ip, userAgent); err != nil {
			return err
		}
		if err := tx.RecordAdminSignIn(ctx, admin.AccountID, admin.ID, sess.CreatedAt); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.NewEvent(&admin.AccountID, models.EventAdmin, models.SubSignedIn,
			models.AdminActor(admin, ip), admin.Email, details))
	})
	if err != nil {
		return nil, "", err
	}
	return &Current{Admin: admin, Account: account, SessionID: sess.ID}, token, nil
}

// Resolve finds who a session token belongs to. A token that is unknown, expired (idle or
// absolute) or whose admin is disabled gives models.ErrUnauthorized.
func (s *Service) Resolve(ctx context.Context, token string) (*Current, error) {
	cur := &Current{}
	// The session, its admin and the account in one statement, read on every request: nothing
	// of them is cached, so that a disabled admin or an ended session is refused at once.
	load := func(ctx context.Context, id string) (sess *models.Session, err error) {
		sess, cur.Admin, cur.Account, err = s.store.ConsoleSession(ctx, id)
		return sess, err
	}
	sess, err := s.sessions.ResolveWith(ctx, token, load, func(context.Context, int64) error {
		if cur.Admin.Status != models.AdminActive {
			return models.ErrUnauthorized
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	cur.SessionID = sess.ID
	return cur, nil
}

// SignOut ends the session of token.
func (s *Service) SignOut(ctx context.Context, cur *Current, ip string) error {
	return s.store.Tx(ctx, func(tx *store.Store) error {
		if err := s.sessions.End(ctx, tx, cur.SessionID); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.NewEvent(&cur.Admin.AccountID, models.EventAdmin, models.SubSignedOut,
			models.AdminActor(cur.Admin, ip), cur.Admin.Email, nil))
	})
}

// ChangePassword sets a new password after checking the current one (against the admin's
// budget of secret checks), and ends every other session of the admin.
func (s *Service) ChangePassword(ctx context.Context, cur *Current, current, next, ip string) error {
	hash, err := s.sessions.NewPassword(cur.Admin.ID, cur.Admin.PasswordHash, current, next,
		cur.Admin.Email, cur.Admin.Name, cur.Account.Name)
	if err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx *store.Store) error {
		return s.setPassword(ctx, tx, cur.Admin, hash, cur.SessionID, ip, "changed by the admin")
	})
}

func (s *Service) setPassword(ctx context.Context, tx *store.Store, admin *models.Admin, hash, keepSession, ip, how string) error {
	if err := tx.SetAdminPassword(ctx, admin.AccountID, admin.ID, hash); err != nil {
		return err
	}
	if err := s.sessions.EndOthers(ctx, tx, admin.ID, keepSession); err != nil {
		return err
	}
	return tx.CreateEvent(ctx, models.NewEvent(&admin.AccountID, models.EventAdmin, models.SubPasswordChanged,
		models.AdminActor(admin, ip), admin.Email, map[string]string{"how": how}))
}

// PasswordLinkAdmin returns the admin a live set-password link is for (models.ErrGone if none).
func (s *Service) PasswordLinkAdmin(ctx context.Context, token string) (*models.Admin, error) {
	t, err := s.store.ValidToken(ctx, models.TokenAdminPassword, secret.Hash(token), s.now())
	if err != nil {
		return nil, goneIfMissing(err)
	}
	admin, err := s.store.AdminByID(ctx, *t.AdminID)
	if err != nil {
		return nil, goneIfMissing(err)
	}
	if admin.Status != models.AdminActive {
		return nil, models.ErrGone
	}
	return admin, nil
}

// UsePasswordLink sets the password of the link's admin and uses the link up; every session of
// that admin ends.
func (s *Service) UsePasswordLink(ctx context.Context, token, pw, ip string) (*models.Admin, error) {
	owner, err := s.PasswordLinkAdmin(ctx, token)
	if err != nil {
		return nil, err
	}
	account, err := s.store.Account(ctx, owner.AccountID)
	if err != nil {
		return nil, err
	}
	if m := password.Validate(pw, owner.Email, owner.Name, account.Name); m != "" {
		return nil, models.NewValidationError("password", m)
	}
	hash, err := s.hasher.Hash(pw)
	if err != nil {
		return nil, err
	}
	var admin *models.Admin
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		now := s.now()
		t, err := tx.ValidToken(ctx, models.TokenAdminPassword, secret.Hash(token), now)
		if err != nil {
			return goneIfMissing(err)
		}
		if err := tx.UseToken(ctx, t.ID, now); err != nil {
			return goneIfMissing(err)
		}
		admin, err = tx.AdminByID(ctx, *t.AdminID)
		if err != nil {
			return goneIfMissing(err)
		}
		if admin.Status != models.AdminActive {
			return models.ErrGone
		}
		return s.setPassword(ctx, tx, admin, hash, "", ip, "set-password link")
	})
	return admin, err
}

func goneIfMissing(err error) error {
	if errors.Is(err, models.ErrNotFound) {
		return models.ErrGone
	}
	return err
}

// Discard deletes a session without an event (a browser signing in again over an old session).
func (s *Service) Discard(ctx context.Context, sessionID string) error {
	return s.sessions.End(ctx, s.store, sessionID)
}
