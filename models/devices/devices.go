// Package devices owns the VPN client devices of SDP users and the use cases of the client API
// (docs/client-api.md): registering a device by redeeming a one-time registration code or by signing in
// with email and password, checking a device's credential, and signing devices out (one, by an
// admin or the user, or all of some users, for Reset password and Disable). It knows nothing of
// HTTP: callers pass the client's IP.
//
// A device's credential is a random 256-bit token handed to the client once and stored only as
// its SHA-256. No code, token, password or authenticator code ever goes into an event or error.
package devices

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"onramp/models"
	"onramp/models/codes"
	"onramp/models/portal"
	"onramp/models/ratelimit"
	"onramp/models/secret"
	"onramp/models/store"
)

// Limits are the failure budgets of code redemption (docs/client-api.md, Rate limits). Every
// redemption takes a token of its client's budget before the code is checked and gives it
// back when the code worked, so only failures spend it, however many arrive at once. Password
// sign-in of clients shares the portal's budgets instead (same password, same guesser): see
// portal.Authenticate.
type Limits struct {
	// Per client (an IPv4 address, an IPv6 /64): one client guessing codes. A client past its
	// budget is not refused outright: its next redemption waits for the next token, up to
	// IPFailEvery, so that a valid code from an office behind one address still goes through
	// at the budget's pace; a redemption whose turn is further away gets 429.
	IPFailBurst int
	IPFailEvery time.Duration
	// Across all clients: past FloodBurst failures (refilled at one per FloodEvery) the API
	// raises an alarm, a Client / Code Flood event once a minute. It never refuses a redemption:
	// each client is held by its own budget, and codes are 79-bit.
	FloodBurst int
	FloodEvery time.Duration
}

// DefaultLimits: 10 failed redemptions per client, then one more every 30 seconds; the alarm
// past 300 failures across all clients, then 300 a minute.
var DefaultLimits = Limits{
	IPFailBurst: 10, IPFailEvery: 30 * time.Second,
	FloodBurst: 300, FloodEvery: time.Minute / 300,
}

// seenEvery limits last-seen writes: a client that checks its session every few seconds costs
// one write a minute.
const seenEvery = time.Minute

// Every outcome of the client API writes an event, but outcomes that repeat cheaply
// write one event per run instead of one per request, so that a polling client or a flood of
// junk cannot fill the events table: refusals anyone can cause without a credential (an
// unreadable request, a request past the rate limit, an unknown token) one per address, call and
// kind per minute; a device's own session checks, good or refused, one per device per hour.
const (
	RefusalEventEvery = time.Minute
	SessionEventEvery = time.Hour
)

// The calls of the client API, as events name them.
const (
	CallRegister = "register"
	CallLogin    = "login"
	CallSession  = "session"
)

// listLimit caps the devices a page lists for one user.
const listLimit = 200

// Why a device was signed out (stored on the device, shown on the pages and in events).
const (
	ReasonAdmin         = "signed out by an admin"
	ReasonUser          = "signed out by the user"
	ReasonPasswordReset = "password reset"
	ReasonUserDisabled  = "user disabled"
)

// Errors of the client API beyond those of portal.Authenticate (ErrMFARequired, ErrWrongCode,
// ErrNotActivated, ErrUserDisabled, models.ErrUnauthorized). They wrap the models errors, so
// that the one error handler maps them even where a handler does not look closer.
var (
	ErrInvalidCode  = fmt.Errorf("%w: unknown or malformed registration code", models.ErrUnauthorized)
	ErrCodeUsed     = fmt.Errorf("%w: registration code already used", models.ErrGone)
	ErrCodeExpired  = fmt.Errorf("%w: registration code expired", models.ErrGone)
	ErrCodeRevoked  = fmt.Errorf("%w: registration code revoked", models.ErrGone)
	ErrUserDisabled = fmt.Errorf("%w: user disabled", models.ErrForbidden)
	// ErrMFAConfigured: the code's user has MFA, which registration codes do not support; the
	// code is not used up.
	ErrMFAConfigured = fmt.Errorf("%w: user has MFA configured", models.ErrForbidden)
	ErrInvalidToken  = fmt.Errorf("%w: invalid device token", models.ErrUnauthorized)
	// ErrAlreadySignedOut: the device's credential had ended already.
	ErrAlreadySignedOut = fmt.Errorf("%w: device already signed out", models.ErrConflict)
)

// Service implements devices and the client API.
type Service struct {
	store  *store.Store
	sealer *codes.Sealer
	portal *portal.Service
	now    func() time.Time

	limits Limits
	byIP   *ratelimit.Limiter
	flood  *ratelimit.Limiter
	// sleep waits for a client's turn (a test moves its clock instead).
	sleep func(ctx context.Context, d time.Duration) error
	// refusals and sessions pace the events of repeated outcomes (RefusalEventEvery, SessionEventEvery).
	refusals *ratelimit.Limiter
	sessions *ratelimit.Limiter
	// sso are the budgets of the sign-in with the identity provider (sso.go), providers says
	// which accounts have one.
	sso       ssoLimiters
	providers SSOProviders
	// batch is how many users RevokeForUsers handles per statement.
	batch int
}

// New builds the service. Codes are found by sealer's lookup hash; client password sign-in
// goes through the portal's checks.
func New(s *store.Store, sealer *codes.Sealer, p *portal.Service) *Service {
	svc := &Service{store: s, sealer: sealer, portal: p, now: func() time.Time { return time.Now().UTC() }, batch: revokeBatch,
		refusals: ratelimit.New(1, RefusalEventEvery), sessions: ratelimit.New(1, SessionEventEvery), sso: newSSOLimiters(s), sleep: sleep}
	return svc.WithLimits(DefaultLimits)
}

// sleep waits d, or less when ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// WithLimits replaces the redemption limits (tests that hammer one code from one address); call
// it before the service is used.
func (s *Service) WithLimits(l Limits) *Service {
	s.limits = l
	s.byIP = ratelimit.New(l.IPFailBurst, l.IPFailEvery).Shares(s.store, "client.redeem.ip")
	s.flood = ratelimit.New(l.FloodBurst, l.FloodEvery)
	return s.WithClock(s.now)
}

// WithClock replaces the clock (tests).
func (s *Service) WithClock(now func() time.Time) *Service {
	s.now = now
	s.byIP.WithClock(now)
	s.flood.WithClock(now)
	s.refusals.WithClock(now)
	s.sessions.WithClock(now)
	s.sso.starts.WithClock(now)
	s.sso.polls.WithClock(now)
	return s
}

// WithSleep replaces how a redemption waits for its client's turn (tests move their clock).
func (s *Service) WithSleep(sleep func(ctx context.Context, d time.Duration) error) *Service {
	s.sleep = sleep
	return s
}

// floodKey is the one key of the all-clients failure counter.
const floodKey = "all"

// RegisterInput is what a client sends to redeem a code.
type RegisterInput struct {
	Code, DeviceName, Platform string
}

// LoginInput is what a client sends to sign in with a password.
type LoginInput struct {
	Account, Email, Password, TOTP, DeviceName, Platform string
}

// Registration is a new device and its credential, which is shown to the client once.
type Registration struct {
	Device  *models.Device
	Token   string
	User    *models.SDPUser
	Account *models.Account
}

// Register redeems a one-time code for a new device. Exactly one of any number of concurrent
// redemptions of a code wins (store.Redeem); the device, the code's device, the user's devices
// counter and the events are written in the same transaction (on PostgreSQL one statement). A
// refused redemption says why (ErrInvalidCode, ErrCodeUsed, ErrCodeExpired, ErrCodeRevoked,
// ErrUserDisabled, ErrMFAConfigured), keeps the token it took of its client's failure budget
// (see Limits), and writes a Code Rejected event.
func (s *Service) Register(ctx context.Context, in RegisterInput, ip string) (reg *Registration, err error) {
	name, platform, err := deviceFields(in.DeviceName, in.Platform)
	if strings.TrimSpace(in.Code) == "" {
		err = addField(err, "code", "The registration code is required.")
	}
	if err != nil {
		return nil, s.RefuseRequest(ctx, CallRegister, ip, err)
	}
	// A well-formed code is admitted within its client's budget by the redemption's own
	// statement when it can be (ratelimit.Limiter.Try), else, and for a malformed one, first.
	bucket := ratelimit.ClientKey(ip)
	code, malformed := codes.Normalize(in.Code)
	var turn ratelimit.Attempt
	var budget *store.RateCheck
	if malformed == nil {
		if try, check, ok := s.byIP.Try(bucket); ok {
			turn, budget = try, (*store.RateCheck)(&check)
		}
	}
	if budget == nil {
		if turn, err = s.takeTurn(ctx, bucket); err != nil {
			return nil, s.noteLimited(ctx, CallRegister, ip, err)
		}
	}
	defer func() {
		if rejected(err) {
			turn.Spend()
		} else {
			turn.Cancel() // the code worked, or could not be checked: not a guess
		}
	}()
	rej := rejection{name: name, platform: platform, ip: ip}
	if malformed != nil {
		return nil, s.reject(ctx, rej, "malformed code", ErrInvalidCode)
	}
	now := s.now()
	token := secret.Token()
	dev := models.Device{Name: name, Platform: platform, RegisteredVia: models.ViaCode, TokenHash: secret.Hash(token)}
	who := models.Actor{Type: models.ActorClient}
	used := models.NewEvent(nil, models.EventCode, models.SubCodeUsed, who, "", map[string]string{"device": name})
	registered := models.NewEvent(nil, models.EventDevice, models.SubDeviceRegistered, who, "", registeredDetails(&dev, "registration code"))
	// During a rotation a code not yet resealed is found by its hash under the previous secret;
	// the current one is tried again last, in case the reseal moved it between the two.
	lookups := s.sealer.Lookups(code)
	if len(lookups) > 1 {
		lookups = append(lookups, lookups[0])
	}
	var lookup string
	var res *store.Redeemed
	for i := 0; i < len(lookups); i++ {
		lookup = lookups[i]
		res, err = s.store.Redeem(ctx, store.Redemption{LookupHash: lookup, At: now, IP: ip, Device: dev,
			Events: []models.Event{*used, *registered}, Budget: budget})
		if err != nil {
			return nil, err
		}
		budget = nil // admitted, or admitted next by takeTurn
		if res.BudgetRefused {
			turn.Cancel()
			if turn, err = s.takeTurn(ctx, bucket); err != nil {
				return nil, s.noteLimited(ctx, CallRegister, ip, err)
			}
			now, i = s.now(), i-1
			continue
		}
		if res.Code != nil {
			break
		}
	}
	rej.code = res.Code
	switch {
	case res.Device != nil:
		return &Registration{Device: res.Device, Token: token, User: res.User, Account: res.Account}, nil
	case res.Code == nil:
		return nil, s.reject(ctx, rej, "unknown code", ErrInvalidCode)
	case res.Code.State(now) != models.CodeActive:
		return nil, s.refused(ctx, rej, res.Code, now)
	case !res.UserReady:
		reason, fail, err := s.whyNotReady(ctx, res.Code)
		if err != nil {
			return nil, err
		}
		return nil, s.reject(ctx, rej, reason, fail)
	}
	// Another redemption won (or the code was revoked meanwhile): read it again to say why.
	c, err := s.store.CodeByLookup(ctx, lookup)
	if err != nil {
		return nil, err
	}
	rej.code = c
	return nil, s.refused(ctx, rej, c, now)
}

// whyNotReady says why the user of an active code could not redeem it, as the reason of the
// Code Rejected event and the error: the user has MFA configured, or is disabled (or was
// deleted meanwhile, which refuses the same way).
func (s *Service) whyNotReady(ctx context.Context, c *models.RegistrationCode) (reason string, fail, err error) {
	u, err := s.store.User(ctx, c.AccountID, c.SDPUserID)
	switch {
	case errors.Is(err, models.ErrNotFound):
	case err != nil:
		return "", nil, err
	case u.Status == models.UserEnabled && u.MFAConfigured:
		return "mfa configured", ErrMFAConfigured, nil
	}
	return "user disabled", ErrUserDisabled, nil
}

// refused rejects a redemption of a code that is not active: revoked, expired or used.
func (s *Service) refused(ctx context.Context, rej rejection, c *models.RegistrationCode, now time.Time) error {
	switch c.State(now) {
	case models.CodeRevoked:
		return s.reject(ctx, rej, "code revoked", ErrCodeRevoked)
	case models.CodeExpired:
		return s.reject(ctx, rej, "code expired", ErrCodeExpired)
	}
	// Used, or still active in the instant after a concurrent redemption's UPDATE and before
	// its commit: both mean another request has it.
	return s.reject(ctx, rej, "code used", ErrCodeUsed)
}

// rejection is what a Code Rejected event tells: never the code itself.
type rejection struct {
	code           *models.RegistrationCode // nil when the code is unknown or malformed
	name, platform string
	ip             string
}

// rejected reports whether err refuses a code (a guess that keeps its token spent).
func rejected(err error) bool {
	for _, r := range []error{ErrInvalidCode, ErrCodeUsed, ErrCodeExpired, ErrCodeRevoked, ErrUserDisabled, ErrMFAConfigured} {
		if errors.Is(err, r) {
			return true
		}
	}
	return false
}

// reject writes the Code Rejected event of a failed redemption, raises the flood alarm when
// failures across all clients pass their pace, and returns fail.
func (s *Service) reject(ctx context.Context, r rejection, reason string, fail error) error {
	if ok, _ := s.flood.Take(floodKey); !ok {
		if err := s.alarm(ctx); err != nil {
			return err
		}
	}
	details := map[string]string{"reason": reason, "device": r.name}
	if r.platform != "" {
		details["platform"] = r.platform
	}
	var e *models.Event
	if r.code != nil {
		u, err := s.store.User(ctx, r.code.AccountID, r.code.SDPUserID)
		if err != nil {
			return err
		}
		e = models.UserEvent(u, models.EventClient, models.SubClientCodeRejected, clientActor(u, r.ip), details)
	} else {
		// An unknown code belongs to no account: the event has none.
		e = models.NewEvent(nil, models.EventClient, models.SubClientCodeRejected,
			models.Actor{Type: models.ActorClient, IP: r.ip}, "", details)
	}
	if err := s.store.CreateEvent(ctx, e); err != nil {
		return err
	}
	return fail
}

// RefuseRequest records a request of call that the API cannot act on (400 invalid_request: not
// one JSON object, or fields missing or wrong) and returns err. Only the names of the fields go
// into the event: their values may hold a code or a password.
func (s *Service) RefuseRequest(ctx context.Context, call, ip string, err error) error {
	reason := "not one JSON object of string fields"
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		fields := slices.Sorted(maps.Keys(ve.Fields))
		reason = "wrong or missing " + strings.Join(fields, ", ")
	}
	return s.noteRefusal(ctx, call, ip, models.SubClientRequestRefused, map[string]string{"reason": reason}, err)
}

// noteLimited records a refusal of call past a rate limit (err is a *models.RateLimitError)
// and returns err.
func (s *Service) noteLimited(ctx context.Context, call, ip string, err error) error {
	var rl *models.RateLimitError
	if !errors.As(err, &rl) {
		return err
	}
	return s.noteRefusal(ctx, call, ip, models.SubClientRateLimited,
		map[string]string{"retry_after": rl.RetryAfter.Round(time.Second).String()}, err)
}

// noteRefusal writes a Client event of a refusal that names no account, at most once per
// address, call and kind per RefusalEventEvery, and returns fail.
func (s *Service) noteRefusal(ctx context.Context, call, ip, sub string, details map[string]string, fail error) error {
	if ok, _ := s.refusals.Take(sub + "\x00" + call + "\x00" + ratelimit.ClientKey(ip)); !ok {
		return fail
	}
	details["call"] = call
	details["recorded"] = "once a minute per address"
	e := models.NewEvent(nil, models.EventClient, sub, models.Actor{Type: models.ActorClient, IP: ip}, "", details)
	if err := s.store.CreateEvent(ctx, e); err != nil {
		return err
	}
	return fail
}

// noteSession writes a device's Session Checked or Session Refused event, at most once per
// device and kind per SessionEventEvery, and returns fail.
func (s *Service) noteSession(ctx context.Context, u *models.SDPUser, d *models.Device, ip, sub, reason string, fail error) error {
	if ok, _ := s.sessions.Take(fmt.Sprintf("%s\x00%d", sub, d.ID)); !ok {
		return fail
	}
	details := map[string]string{"device": d.Name, "recorded": "once an hour per device"}
	if reason != "" {
		details["reason"] = reason
	}
	e := models.UserEvent(u, models.EventDevice, sub, clientActor(u, ip), details)
	e.DeviceID = &d.ID
	if err := s.store.CreateEvent(ctx, e); err != nil {
		return err
	}
	return fail
}

// takeTurn admits a redemption within its client's budget, waiting for the next turn (up to
// the budget's refill interval) when the client is past it; a turn further away is a
// *models.RateLimitError (with the zero Attempt, which settles nothing). On PostgreSQL the turn
// is a read of the shared bucket, which only a failed redemption writes
// (ratelimit.Limiter.Admit).
func (s *Service) takeTurn(ctx context.Context, bucket string) (ratelimit.Attempt, error) {
	turn, wait, ok := s.byIP.Admit(bucket, s.limits.IPFailEvery)
	if !ok {
		return ratelimit.Attempt{}, &models.RateLimitError{RetryAfter: wait}
	}
	if wait > 0 {
		if err := s.sleep(ctx, wait); err != nil {
			turn.Cancel()
			return ratelimit.Attempt{}, err
		}
	}
	return turn, nil
}

// alarm writes the Client / Code Flood event, at most once per RefusalEventEvery: failed
// redemptions across all clients are past their pace. Nobody is refused for it.
func (s *Service) alarm(ctx context.Context) error {
	if ok, _ := s.refusals.Take(models.SubClientCodeFlood); !ok {
		return nil
	}
	return s.store.CreateEvent(ctx, models.NewEvent(nil, models.EventClient, models.SubClientCodeFlood,
		models.Actor{Type: models.ActorSystem}, "", map[string]string{
			"failures": fmt.Sprintf("more than %d, then %d a minute, across all clients", s.limits.FloodBurst,
				time.Minute/s.limits.FloodEvery),
			"recorded": "once a minute"}))
}

// Login registers a device for a user who signs in with account name, email, password and,
// with MFA, an authenticator code. The checks, their errors, their failure budgets and their
// Sign-in Failed events (of type Client) are the portal's: see portal.Authenticate.
func (s *Service) Login(ctx context.Context, in LoginInput, ip string) (*Registration, error) {
	name, platform, err := deviceFields(in.DeviceName, in.Platform)
	if strings.TrimSpace(in.Account) == "" {
		err = addField(err, "account", "The account name is required.")
	}
	if strings.TrimSpace(in.Email) == "" {
		err = addField(err, "email", "The email is required.")
	}
	if in.Password == "" {
		err = addField(err, "password", "The password is required.")
	}
	if err != nil {
		return nil, s.RefuseRequest(ctx, CallLogin, ip, err)
	}
	account, u, via, err := s.portal.Authenticate(ctx,
		portal.SignInInput{Account: in.Account, Email: in.Email, Password: in.Password, TOTP: in.TOTP}, ip, models.EventClient)
	if err != nil {
		return nil, s.noteLimited(ctx, CallLogin, ip, err)
	}
	now := s.now()
	token := secret.Token()
	d := newDevice(u, name, platform, models.ViaPassword, token, now)
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		// Counting on the user's row only while enabled orders this with a concurrent Disable.
		if err := tx.CountNewDevice(ctx, u.AccountID, u.ID); errors.Is(err, models.ErrNotFound) {
			return ErrUserDisabled
		} else if err != nil {
			return err
		}
		if err := tx.CreateDevice(ctx, d); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, registeredEvent(u, d, clientActor(u, ip), via))
	})
	if err != nil {
		return nil, err
	}
	return &Registration{Device: d, Token: token, User: u, Account: account}, nil
}

// Session is a device whose credential works, and its user.
type Session struct {
	Device *models.Device
	User   *models.SDPUser
}

// Session checks a device token from ip: it works until the device is signed out (by an admin,
// the user, Reset password or Disable) or its user is disabled; anything else is
// ErrInvalidToken. It records when the device was last seen, at most once a minute, and writes
// Session Checked / Session Refused (or, for a token of no device, Token Rejected) events, paced
// as noteSession and noteRefusal say.
func (s *Service) Session(ctx context.Context, token, ip string) (*Session, error) {
	unknown := func(reason string) (*Session, error) {
		return nil, s.noteRefusal(ctx, CallSession, ip, models.SubClientTokenRejected, map[string]string{"reason": reason}, ErrInvalidToken)
	}
	if token == "" {
		return unknown("no bearer token")
	}
	if len(token) > 128 {
		return unknown("unknown token")
	}
	d, err := s.store.DeviceByTokenHash(ctx, secret.Hash(token))
	if errors.Is(err, models.ErrNotFound) {
		return unknown("unknown token")
	}
	if err != nil {
		return nil, err
	}
	u, err := s.store.User(ctx, d.AccountID, d.SDPUserID)
	if errors.Is(err, models.ErrNotFound) {
		return unknown("user deleted")
	}
	if err != nil {
		return nil, err
	}
	switch {
	case !d.Active():
		return nil, s.noteSession(ctx, u, d, ip, models.SubDeviceSessionRefused, "device signed out: "+d.RevokedReason, ErrInvalidToken)
	case u.Status != models.UserEnabled:
		return nil, s.noteSession(ctx, u, d, ip, models.SubDeviceSessionRefused, ReasonUserDisabled, ErrInvalidToken)
	}
	now := s.now()
	if now.Sub(d.LastSeenAt) >= seenEvery {
		if err := s.store.TouchDevice(ctx, d.ID, now, now.Add(-seenEvery)); err != nil {
			return nil, err
		}
		d.LastSeenAt = now
	}
	if err := s.noteSession(ctx, u, d, ip, models.SubDeviceSessionChecked, "", nil); err != nil {
		return nil, err
	}
	return &Session{Device: d, User: u}, nil
}

// UserDevices lists the devices of a user of the admin's account (404 for another account's).
func (s *Service) UserDevices(ctx context.Context, admin *models.Admin, userID int64) ([]models.Device, error) {
	if _, err := s.store.User(ctx, admin.AccountID, userID); err != nil {
		return nil, err
	}
	return s.store.UserDevices(ctx, admin.AccountID, userID, listLimit)
}

// Device loads a device of a user of the admin's account (for the sign-out confirmation).
func (s *Service) Device(ctx context.Context, admin *models.Admin, userID, deviceID int64) (*models.Device, error) {
	return s.store.Device(ctx, admin.AccountID, userID, deviceID)
}

// OwnDevices lists a portal user's own devices.
func (s *Service) OwnDevices(ctx context.Context, u *models.SDPUser) ([]models.Device, error) {
	return s.store.UserDevices(ctx, u.AccountID, u.ID, listLimit)
}

// OwnDevice loads one of a portal user's own devices; anyone else's is models.ErrNotFound.
func (s *Service) OwnDevice(ctx context.Context, u *models.SDPUser, deviceID int64) (*models.Device, error) {
	return s.store.Device(ctx, u.AccountID, u.ID, deviceID)
}

// SignOutByAdmin ends the credential of a device of a user of the admin's account (admins and
// helpdesk staff both may).
func (s *Service) SignOutByAdmin(ctx context.Context, admin *models.Admin, ip string, userID, deviceID int64) (*models.Device, error) {
	return s.signOut(ctx, admin.AccountID, userID, deviceID, ReasonAdmin, models.AdminActor(admin, ip))
}

// SignOutOwn ends the credential of one of a portal user's own devices.
func (s *Service) SignOutOwn(ctx context.Context, u *models.SDPUser, ip string, deviceID int64) (*models.Device, error) {
	return s.signOut(ctx, u.AccountID, u.ID, deviceID, ReasonUser, models.UserActor(u, ip))
}

// signOut ends one device's credential: another account's or user's device is
// models.ErrNotFound, a device signed out already is ErrAlreadySignedOut.
func (s *Service) signOut(ctx context.Context, accountID, userID, deviceID int64, reason string, who models.Actor) (*models.Device, error) {
	var d *models.Device
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		// The user's row first (locked on PostgreSQL), then the device's: the order Disable
		// and Reset password take them in, so that the two never deadlock.
		us, err := tx.UsersByIDs(ctx, accountID, []int64{userID})
		if err != nil {
			return err
		}
		if len(us) == 0 {
			return models.ErrNotFound
		}
		if d, err = tx.Device(ctx, accountID, userID, deviceID); err != nil {
			return err
		}
		now := s.now()
		if err := tx.RevokeDevice(ctx, accountID, userID, deviceID, now, reason); errors.Is(err, models.ErrNotFound) {
			return ErrAlreadySignedOut // signed out before, or by a concurrent request
		} else if err != nil {
			return err
		}
		d.RevokedAt, d.RevokedReason = &now, reason
		if err := tx.UncountDevice(ctx, accountID, userID); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, signedOutEvent(&us[0], d.ID, d.Name, reason, who))
	})
	return d, err
}

// revokeBatch is how many users RevokeForUsers handles per statement: well under the
// databases' limits on bound parameters.
const revokeBatch = 1000

// RevokeForUsers signs out every active device of the given users of an account inside the
// caller's transaction tx (Reset password, Disable): a batch of users per statement, one Signed
// Out event per device, the users' device counters lowered.
func (s *Service) RevokeForUsers(ctx context.Context, tx *store.Store, accountID int64, userIDs []int64, reason string, who models.Actor) error {
	now := s.now()
	for start := 0; start < len(userIDs); start += s.batch {
		ids := userIDs[start:min(start+s.batch, len(userIDs))]
		revoked, err := tx.RevokeUsersDevices(ctx, accountID, ids, now, reason)
		if err != nil || len(revoked) == 0 {
			return err
		}
		owners := make([]int64, 0, len(revoked))
		seen := map[int64]bool{}
		for _, d := range revoked {
			if !seen[d.SDPUserID] {
				seen[d.SDPUserID] = true
				owners = append(owners, d.SDPUserID)
			}
		}
		us, err := tx.UsersByIDs(ctx, accountID, owners)
		if err != nil {
			return err
		}
		if err := tx.CreateEvents(ctx, signedOutEvents(us, revoked, reason, who)); err != nil {
			return err
		}
	}
	return nil
}

// signedOutEvents are the Signed Out events of devices signed out at once; us are their users.
func signedOutEvents(us []models.SDPUser, revoked []store.RevokedDevice, reason string, who models.Actor) []*models.Event {
	byID := make(map[int64]*models.SDPUser, len(us))
	for i := range us {
		byID[us[i].ID] = &us[i]
	}
	events := make([]*models.Event, 0, len(revoked))
	for _, d := range revoked {
		if u := byID[d.SDPUserID]; u != nil {
			events = append(events, signedOutEvent(u, d.ID, d.Name, reason, who))
		}
	}
	return events
}

func newDevice(u *models.SDPUser, name, platform, via, token string, now time.Time) *models.Device {
	return &models.Device{AccountID: u.AccountID, SDPUserID: u.ID, Name: name, Platform: platform, RegisteredVia: via,
		TokenHash: secret.Hash(token), RegisteredAt: now, LastSeenAt: now}
}

// clientActor is a user's VPN client acting on their behalf.
func clientActor(u *models.SDPUser, ip string) models.Actor {
	return models.Actor{Type: models.ActorClient, Label: u.Email, IP: ip}
}

func registeredEvent(u *models.SDPUser, d *models.Device, who models.Actor, via string) *models.Event {
	e := models.UserEvent(u, models.EventDevice, models.SubDeviceRegistered, who, registeredDetails(d, via))
	e.DeviceID = &d.ID
	return e
}

// registeredDetails are the details of a device's Registered event.
func registeredDetails(d *models.Device, via string) map[string]string {
	details := map[string]string{"device": d.Name, "via": via}
	if d.Platform != "" {
		details["platform"] = d.Platform
	}
	return details
}

func signedOutEvent(u *models.SDPUser, deviceID int64, name, reason string, who models.Actor) *models.Event {
	e := models.UserEvent(u, models.EventDevice, models.SubDeviceSignedOut, who, map[string]string{"device": name, "reason": reason})
	e.DeviceID = &deviceID
	return e
}

// Device field limits: names show in tables; platforms are short words (macos, windows, ios).
const (
	maxNameLen     = 100
	maxPlatformLen = 40
)

// deviceFields checks and tidies the device name (required) and platform (optional).
func deviceFields(name, platform string) (string, string, error) {
	name, platform = strings.TrimSpace(name), strings.TrimSpace(platform)
	var ve models.ValidationError
	switch {
	case name == "":
		ve.Add("device_name", "The device name is required.")
	case !printable(name) || utf8.RuneCountInString(name) > maxNameLen:
		ve.Add("device_name", fmt.Sprintf("The device name must be printable text of at most %d characters.", maxNameLen))
	}
	if !printable(platform) || utf8.RuneCountInString(platform) > maxPlatformLen {
		ve.Add("platform", fmt.Sprintf("The platform must be printable text of at most %d characters.", maxPlatformLen))
	}
	return name, platform, ve.OrNil()
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// addField adds a field message to err (a *models.ValidationError or nil).
func addField(err error, field, msg string) error {
	var ve *models.ValidationError
	if !errors.As(err, &ve) {
		ve = &models.ValidationError{}
	}
	ve.Add(field, msg)
	return ve
}
