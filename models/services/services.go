// Package services is the wiring: it builds every application service once, in dependency
// order, over one store and one job queue. `onramp serve` and every test harness call it, so
// that the service graph they run is the same one.
package services

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"onramp/models/admins"
	"onramp/models/apitokens"
	"onramp/models/auth"
	"onramp/models/codes"
	"onramp/models/devices"
	"onramp/models/directory"
	"onramp/models/events"
	"onramp/models/jobs"
	"onramp/models/mail"
	"onramp/models/metrics"
	"onramp/models/password"
	"onramp/models/portal"
	"onramp/models/provisioning"
	"onramp/models/retention"
	"onramp/models/runs"
	"onramp/models/secret"
	"onramp/models/sessions"
	"onramp/models/sso"
	"onramp/models/store"
	"onramp/models/stream"
	"onramp/models/users"
)

// Config is what the services need from outside: keys, URLs, timeouts and the email renderer
// (views/emails), which the models cannot import.
type Config struct {
	Keys *secret.Keys
	// Hasher hashes passwords; nil means the production argon2id parameters.
	Hasher *password.Hasher
	// BaseURL is the public URL of the server, for links in emails.
	BaseURL       string
	ActivationTTL time.Duration // how long an invitation's activation link works (0: the default)
	Auth          auth.Config
	Portal        sessions.Config
	Mail          mail.Config
	Renderer      mail.Renderer
	Jobs          jobs.Config
	// Stream tunes event streaming; its RetryDelay defaults to Jobs.RetryDelay.
	Stream stream.Config
	Logger *slog.Logger
	// Clock replaces the time of every service (tests); nil means the real time.
	Clock func() time.Time
	// Sleep replaces how a service waits (tests move their Clock instead); nil means the real
	// wait.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Services is the application: every use case, and the job queue they share.
type Services struct {
	store *store.Store
	// Metrics are the Prometheus series of this server (its own registry).
	Metrics      *metrics.Metrics
	Jobs         *jobs.Jobs
	Runs         *runs.Runner
	Auth         *auth.Service
	Admins       *admins.Service
	Portal       *portal.Service
	Outbox       *mail.Outbox
	Codes        *codes.Service
	Devices      *devices.Service
	Users        *users.Service
	Provisioning *provisioning.Service
	Events       *events.Service
	Directory    *directory.Service
	SSO          *sso.Service
	Stream       *stream.Service
	Tokens       *apitokens.Service
	Retention    *retention.Service
}

// New builds the services over s. The job queue is built first, so that each service registers
// its workers as it is built; start it (Jobs.Start) once New returns.
func New(s *store.Store, cfg Config) (*Services, error) {
	if cfg.Keys == nil || cfg.Renderer == nil {
		return nil, errors.New("services: keys and an email renderer are required")
	}
	hasher := cfg.Hasher
	if hasher == nil {
		hasher = password.NewHasher()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := metrics.New(s)
	jc, mc := cfg.Jobs, cfg.Mail
	if jc.Logger == nil {
		jc.Logger = log
	}
	if mc.Logger == nil {
		mc.Logger = log
	}
	jc.Metrics, mc.Metrics = m, m
	j, err := jobs.New(s, jc)
	if err != nil {
		return nil, err
	}
	outbox, err := mail.NewOutbox(s, j, cfg.Renderer, mc)
	if err != nil {
		return nil, err
	}
	sv := &Services{store: s, Metrics: m, Jobs: j, Outbox: outbox, Provisioning: provisioning.New(s)}
	sv.Runs = runs.New(s, j, log)
	sv.Auth = auth.New(s, hasher, cfg.Keys, cfg.Auth)
	sv.Admins = admins.New(s, hasher, sv.Auth.Config().PasswordLinkTTL)
	sv.Portal = portal.New(s, hasher, cfg.Keys, cfg.Portal)
	sv.Codes = codes.NewService(s, cfg.Keys, j, sv.Runs, codes.Config{Logger: log, BaseURL: cfg.BaseURL, Mailer: outbox, Metrics: m})
	sv.Devices = devices.New(s, sv.Codes.Sealer(), sv.Portal)
	sv.Users = users.New(s, outbox, sv.Codes, sv.Devices, sv.Runs, users.Config{BaseURL: cfg.BaseURL, ActivationTTL: cfg.ActivationTTL})
	sv.Events = events.New(s)
	sv.Directory = directory.New(s, sv.Users, cfg.Keys)
	sv.Directory.ScheduleSyncs(j)
	sv.SSO = sso.New(s, cfg.Keys, sso.Config{BaseURL: cfg.BaseURL, Logger: log})
	sv.Devices.WithSSO(sv.SSO)
	sv.Tokens = apitokens.New(s, cfg.Keys)
	sessions.SchedulePurge(j, s, sv.Auth.Sessions(), sv.Portal.Sessions())
	sc := cfg.Stream
	if sc.RetryDelay == 0 {
		sc.RetryDelay = jc.RetryDelay
	}
	if sc.Logger == nil {
		sc.Logger = log
	}
	sv.Stream = stream.New(s, cfg.Keys, j, sc)
	sv.Retention = retention.New(s, j, log)
	if now := cfg.Clock; now != nil {
		sv.Runs.WithClock(now)
		sv.Auth.WithClock(now)
		sv.Portal.WithClock(now)
		sv.Codes.WithClock(now)
		sv.Devices.WithClock(now)
		sv.Users.WithClock(now)
		sv.Events.WithClock(now)
		sv.Directory.WithClock(now)
		sv.SSO.WithClock(now)
		sv.Stream.WithClock(now)
		sv.Tokens.WithClock(now)
		sv.Retention.WithClock(now)
	}
	if cfg.Sleep != nil {
		sv.Devices.WithSleep(cfg.Sleep)
	}
	return sv, nil
}

// Ping checks that the database answers (the readiness probe).
func (sv *Services) Ping(ctx context.Context) error { return sv.store.Ping(ctx) }

// ErrWrongSecret: the database was set up with another ONRAMP_SECRET. Starting anyway would
// refuse every code and serve empty exports, since nothing sealed opens.
var ErrWrongSecret = errors.New("ONRAMP_SECRET is not the secret this database was set up with (its key check value differs): " +
	"start every instance with the same ONRAMP_SECRET; to change it, see Rotating ONRAMP_SECRET in docs/replicas.md")

// CheckKeys compares keys with the key check value stored at the first start, storing it when
// there is none yet. During a rotation the previous secret's value is accepted too, and
// previous says it was that one (the data is not resealed yet). ErrWrongSecret when neither
// matches.
func CheckKeys(ctx context.Context, s *store.Store, keys *secret.Keys) (previous bool, err error) {
	stored, err := s.InitDeploymentSetting(ctx, store.KeyCheckSetting, keys.CheckValue())
	switch {
	case err != nil:
		return false, err
	case stored == keys.CheckValue():
		return false, nil
	case keys.Previous() == nil:
		return false, ErrWrongSecret
	case stored == keys.Previous().CheckValue():
		return true, nil
	}
	return false, fmt.Errorf("%w; nor is ONRAMP_SECRET_PREVIOUS", ErrWrongSecret)
}

// Resealed is what Reseal did to one kind of sealed data.
type Resealed struct {
	Kind string
	store.Resealed
}

// Reseal rewrites everything sealed under the previous ONRAMP_SECRET under the current one,
// kind by kind in short batches, then stores the current secret's key check value: once it
// returns, the previous secret can go. Running it again rewrites nothing; it is safe beside
// running servers that have both secrets (what they write meanwhile is sealed under the
// current one already).
func (sv *Services) Reseal(ctx context.Context, keys *secret.Keys) ([]Resealed, error) {
	kinds := []struct {
		name string
		run  func(context.Context) (store.Resealed, error)
	}{
		{"registration codes", sv.Codes.Reseal},
		{"admin TOTP keys", sv.Auth.ResealTOTP},
		{"user TOTP keys", sv.Portal.ResealTOTP},
		{"LDAP bind passwords", sv.Directory.ResealPasswords},
		{"SSO client secrets", sv.SSO.ResealSecrets},
		{"webhook secrets", sv.Stream.ResealSecrets},
	}
	var out []Resealed
	for _, k := range kinds {
		r, err := k.run(ctx)
		if err != nil {
			return out, fmt.Errorf("resealing %s: %w", k.name, err)
		}
		out = append(out, Resealed{Kind: k.name, Resealed: r})
	}
	return out, sv.store.SetDeploymentSetting(ctx, store.KeyCheckSetting, keys.CheckValue())
}
