// Package sessions owns what the console's sign-in (models/auth) and the MyVPN portal's
// (models/portal) have in common: server-side sessions with idle and absolute timeouts, the
// failure budgets of sign-in and of the secret checks a signed-in person makes (current
// password, authenticator code), password changes, and the purge of expired sessions. Each side
// has a Manager of its own kind (its own table, its own budgets); the people, their events and
// their cookies stay with the side.
package sessions

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"onramp/models"
	"onramp/models/jobs"
	"onramp/models/password"
	"onramp/models/ratelimit"
	"onramp/models/secret"
	"onramp/models/store"
	"onramp/models/text"
	"onramp/models/twostep"
)

// Failure budgets, the same on both sides (documented in docs/security.md). Only failures
// spend tokens, so someone who gets it right is never slowed down.
const (
	// Sign-in, per name (an email; on the portal the account and the email): a password
	// guesser aiming at one person.
	SignInFailBurst = 5
	SignInFailEvery = 3 * time.Minute
	// Sign-in, per client IP: one client spraying many people.
	IPFailBurst = 30
	IPFailEvery = 20 * time.Second
	// Secret checks of a signed-in person (current password, authenticator code), per person:
	// a stolen session must not be able to guess the password or the code.
	CheckFailBurst = 5
	CheckFailEvery = time.Minute
)

// touchEvery limits session writes: activity is recorded at most once a minute.
const touchEvery = time.Minute

// maxUserAgent is how many bytes of the browser's User-Agent a session keeps (cut on a
// character: a cut inside one would be bytes that are not UTF-8, which PostgreSQL refuses).
const maxUserAgent = 255

// Config holds the timeouts; zero values take the defaults.
type Config struct {
	IdleTimeout     time.Duration // default 30 minutes
	AbsoluteTimeout time.Duration // default 12 hours
}

// Manager keeps the sessions of one kind and the failure budgets of the people who open them.
type Manager struct {
	store  *store.Store
	kind   models.SessionKind
	hasher *password.Hasher
	cfg    Config
	now    func() time.Time
	byName *ratelimit.Limiter
	byIP   *ratelimit.Limiter
	checks *ratelimit.Limiter
}

// New builds the manager of a kind of session.
func New(s *store.Store, kind models.SessionKind, h *password.Hasher, cfg Config) *Manager {
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.AbsoluteTimeout == 0 {
		cfg.AbsoluteTimeout = 12 * time.Hour
	}
	return &Manager{
		store: s, kind: kind, hasher: h, cfg: cfg, now: func() time.Time { return time.Now().UTC() },
		byName: ratelimit.New(SignInFailBurst, SignInFailEvery).Shares(s, string(kind)+".signin.name"),
		byIP:   ratelimit.New(IPFailBurst, IPFailEvery).Shares(s, string(kind)+".signin.ip"),
		checks: ratelimit.New(CheckFailBurst, CheckFailEvery).Shares(s, string(kind)+".checks"),
	}
}

// WithClock replaces the clock of the sessions and the budgets (tests).
func (m *Manager) WithClock(now func() time.Time) *Manager {
	m.now = now
	for _, l := range []*ratelimit.Limiter{m.byName, m.byIP, m.checks} {
		l.WithClock(now)
	}
	return m
}

// Config returns the effective timeouts.
func (m *Manager) Config() Config { return m.cfg }

// SignIn is a sign-in under way: it holds a token of the name's and of the client's budgets
// from before the check until the check is known not to have failed. A failed check keeps
// them spent, so that of many attempts at once only the budget's worth is ever checked.
type SignIn struct {
	m              *Manager
	name, ipBucket string
}

// BeginSignIn takes a token of the name's and of the client's budget (an IPv6 client's /64, see
// ratelimit.ClientKey), or refuses with a *models.RateLimitError while either is spent.
func (m *Manager) BeginSignIn(name, ip string) (*SignIn, error) {
	okN, waitN := m.byName.Take(name)
	if !okN {
		return nil, &models.RateLimitError{RetryAfter: waitN}
	}
	bucket := ratelimit.ClientKey(ip)
	if okI, waitI := m.byIP.Take(bucket); !okI {
		m.byName.Give(name)
		return nil, &models.RateLimitError{RetryAfter: waitI}
	}
	return &SignIn{m: m, name: name, ipBucket: bucket}, nil
}

// Finish settles the attempt once its outcome is known (call it deferred). Success (err nil)
// gives the name its whole budget back and the client its token; a failure (failed: a wrong
// secret, an unknown name) keeps both spent; any other error means the check could not run
// (the database failed), which says nothing about the person signing in, so both tokens go back.
func (a *SignIn) Finish(err error, failed bool) {
	switch {
	case err == nil:
		a.m.byName.Reset(a.name)
		a.m.byIP.Give(a.ipBucket)
	case !failed:
		a.m.byName.Give(a.name)
		a.m.byIP.Give(a.ipBucket)
	}
}

// Budget is a signed-in person's failure budget of secret checks (CheckFailBurst).
func (m *Manager) Budget(ownerID int64) twostep.Budget {
	return twostep.Budget{Limiter: m.checks, Key: strconv.FormatInt(ownerID, 10)}
}

// Start opens a session for its owner in tx (a new id at every sign-in) and returns its token,
// which only the cookie keeps.
func (m *Manager) Start(ctx context.Context, tx *store.Store, ownerID int64, ip, userAgent string) (string, *models.Session, error) {
	token := secret.Token()
	now := m.now()
	sess := &models.Session{ID: secret.Hash(token), OwnerID: ownerID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(m.cfg.AbsoluteTimeout), IP: ip, UserAgent: text.Cut(userAgent, maxUserAgent)}
	if err := tx.CreateSession(ctx, m.kind, sess); err != nil {
		return "", nil, err
	}
	return token, sess, nil
}

// Resolve finds the live session of a token and checks its owner with allowed, which loads the
// owner and returns models.ErrUnauthorized when they may no longer use it (disabled, say). An
// unknown token, an expired session (idle or absolute) or a refused owner give
// models.ErrUnauthorized, and the last two end the session.
func (m *Manager) Resolve(ctx context.Context, token string, allowed func(ctx context.Context, ownerID int64) error) (*models.Session, error) {
	return m.ResolveWith(ctx, token, func(ctx context.Context, id string) (*models.Session, error) {
		return m.store.Session(ctx, m.kind, id)
	}, allowed)
}

// ResolveWith is Resolve with the session read by load (by the hash of its token), which may
// read its owner in the same statement for allowed to check.
func (m *Manager) ResolveWith(ctx context.Context, token string, load func(ctx context.Context, id string) (*models.Session, error),
	allowed func(ctx context.Context, ownerID int64) error) (*models.Session, error) {
	if token == "" {
		return nil, models.ErrUnauthorized
	}
	id := secret.Hash(token)
	sess, err := load(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, models.ErrUnauthorized
	}
	if err != nil {
		return nil, err
	}
	now := m.now()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) > m.cfg.IdleTimeout {
		_ = m.store.DeleteSession(ctx, m.kind, id)
		return nil, models.ErrUnauthorized
	}
	if err := allowed(ctx, sess.OwnerID); err != nil {
		if errors.Is(err, models.ErrUnauthorized) || errors.Is(err, models.ErrNotFound) {
			_ = m.store.DeleteSession(ctx, m.kind, id)
			return nil, models.ErrUnauthorized
		}
		return nil, err
	}
	if now.Sub(sess.LastSeenAt) > touchEvery {
		if err := m.store.TouchSession(ctx, m.kind, id, now); err != nil {
			return nil, err
		}
	}
	return sess, nil
}

// End ends one session in tx.
func (m *Manager) End(ctx context.Context, tx *store.Store, id string) error {
	return tx.DeleteSession(ctx, m.kind, id)
}

// EndOthers ends, in tx, every session of an owner but keep (which may be "").
func (m *Manager) EndOthers(ctx context.Context, tx *store.Store, ownerID int64, keep string) error {
	return tx.DeleteOwnerSessions(ctx, m.kind, ownerID, keep)
}

// EndAll ends, in tx, every session of the given owners.
func (m *Manager) EndAll(ctx context.Context, tx *store.Store, ownerIDs []int64) error {
	return tx.DeleteOwnersSessions(ctx, m.kind, ownerIDs)
}

// NewPassword checks a signed-in person's current password against their budget of secret
// checks (a wrong one spends a token; with none left the answer is a models.RateLimitError),
// checks the new one against the password rules (about is the person's email, name and account,
// which it must not be built on) and returns its hash. The caller saves it and ends the owner's
// other sessions in one transaction.
func (m *Manager) NewPassword(ownerID int64, currentHash, current, next string, about ...string) (string, error) {
	budget := m.Budget(ownerID)
	if err := budget.Take(); err != nil {
		return "", err
	}
	ok, err := m.hasher.Verify(current, currentHash)
	if err != nil {
		budget.Give()
		return "", err
	}
	if !ok {
		return "", models.NewValidationError("current_password", "This is not your current password.")
	}
	budget.Give()
	if msg := password.Validate(next, about...); msg != "" {
		return "", models.NewValidationError("password", msg)
	}
	return m.hasher.Hash(next)
}

// Purge deletes the expired sessions of the kind.
func (m *Manager) Purge(ctx context.Context) (int64, error) {
	return m.store.DeleteExpiredSessions(ctx, m.kind, m.now(), m.cfg.IdleTimeout)
}

// purgeEvery is how often expired sessions, and the shared failure budgets that are full again,
// are deleted.
const purgeEvery = 10 * time.Minute

type purgeArgs struct{}

func (purgeArgs) Kind() string { return "sessions.purge" }

type purgeWorker struct {
	river.WorkerDefaults[purgeArgs]
	store    *store.Store
	managers []*Manager
}

func (w *purgeWorker) Work(ctx context.Context, _ *river.Job[purgeArgs]) error {
	var errs []error
	for _, m := range w.managers {
		_, err := m.Purge(ctx)
		errs = append(errs, err)
	}
	_, err := w.store.DeleteFullRateBuckets(ctx, time.Now().UnixNano())
	return errors.Join(append(errs, err)...)
}

// SchedulePurge deletes the expired sessions of every manager, and the failure budgets of s
// (models/ratelimit) that are full again, every ten minutes, as a periodic job: one server
// does it however many there are.
func SchedulePurge(j *jobs.Jobs, s *store.Store, managers ...*Manager) {
	jobs.AddWorker(j, &purgeWorker{store: s, managers: managers})
	j.Every("sessions.purge", purgeEvery, purgeArgs{}, &river.InsertOpts{Queue: jobs.QueueMaintenance, MaxAttempts: 3}, false)
}
