// Package apitokens owns the admin REST API's tokens: it issues them (shown once, only their
// SHA-256 kept), checks them on each call and turns a live one into the Admin value the other
// services act for (Admin.Token set, so that events name the token), and keeps the first
// response to each Idempotency-Key.
package apitokens

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"onramp/models"
	"onramp/models/secret"
	"onramp/models/store"
	"onramp/models/twostep"
)

// Prefix starts every API token, so that a leaked one is recognisable (secret scanners, logs).
const Prefix = "onr_"

// MaxExpiry is the longest lifetime a token may be given; no expiry at all is allowed too.
const MaxExpiry = 366 * 24 * time.Hour

// touchEvery is how stale a token's last use may be shown: a script's concurrent calls would
// otherwise all queue on the token's row.
const touchEvery = time.Minute

// IdempotencyTTL is how long the first response to an Idempotency-Key is replayed.
const IdempotencyTTL = 24 * time.Hour

// ErrUnauthorized is a missing, unknown, revoked or expired token.
var ErrUnauthorized = errors.New("missing, unknown, revoked or expired API token")

// Service issues and checks API tokens.
type Service struct {
	store *store.Store
	box   *twostep.Sealer // idempotent responses
	now   func() time.Time
}

// New builds the service; keys seal the stored responses of idempotent requests.
func New(s *store.Store, keys *secret.Keys) *Service {
	return &Service{store: s, box: twostep.NewSealer(keys.DeriveAll("api-idempotency")...), now: func() time.Time { return time.Now().UTC() }}
}

// WithClock replaces the clock (tests).
func (s *Service) WithClock(now func() time.Time) *Service { s.now = now; return s }

// Now is the service's time.
func (s *Service) Now() time.Time { return s.now() }

// CreateInput is a new token: a name, its scopes and an optional lifetime (0: no expiry).
type CreateInput struct {
	Name      string
	Scopes    []string
	ExpiresIn time.Duration
}

// validate checks the input and returns its scopes in the canonical order.
func (in CreateInput) validate() ([]models.Scope, error) {
	ve := &models.ValidationError{}
	if name := strings.TrimSpace(in.Name); name == "" || len(name) > 100 {
		ve.Add("name", "Enter a token name of at most 100 characters.")
	}
	var scopes []models.Scope
	for _, s := range in.Scopes {
		sc := models.Scope(strings.TrimSpace(s))
		if !sc.Valid() {
			ve.Add("scopes", "Unknown scope "+strconv.Quote(s)+": choose among "+scopeNames()+".")
			continue
		}
		scopes = append(scopes, sc)
	}
	if len(in.Scopes) == 0 {
		ve.Add("scopes", "Choose at least one scope.")
	}
	if in.ExpiresIn < 0 || in.ExpiresIn > MaxExpiry {
		ve.Add("expires", "A token expires after at most 366 days (or never).")
	}
	if err := ve.OrNil(); err != nil {
		return nil, err
	}
	var out []models.Scope
	for _, sc := range models.Scopes {
		if slices.Contains(scopes, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

func scopeNames() string {
	names := make([]string, len(models.Scopes))
	for i, s := range models.Scopes {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// Create issues a token for the actor's account, created by the actor, and returns it: it is
// shown once, only its hash is kept. An API / Token Created event names it and its scopes.
func (s *Service) Create(ctx context.Context, actor *models.Admin, ip string, in CreateInput) (string, *models.APIToken, error) {
	return s.create(ctx, actor, models.AdminActor(actor, ip), in)
}

// CreateForAccount is `onramp token create`: a token of the named account, attributed to its
// first active admin (there must be one).
func (s *Service) CreateForAccount(ctx context.Context, accountName string, in CreateInput) (string, *models.APIToken, error) {
	account, err := s.store.AccountByName(ctx, accountName)
	if err != nil {
		return "", nil, err
	}
	owner, err := s.store.FirstActiveAdmin(ctx, account.ID)
	if errors.Is(err, models.ErrNotFound) {
		return "", nil, models.NewValidationError("account", "The account "+accountName+" has no active admin: create one first (onramp admin create).")
	}
	if err != nil {
		return "", nil, err
	}
	return s.create(ctx, owner, models.Actor{Type: models.ActorSystem, Label: "command line"}, in)
}

func (s *Service) create(ctx context.Context, owner *models.Admin, who models.Actor, in CreateInput) (string, *models.APIToken, error) {
	scopes, err := in.validate()
	if err != nil {
		return "", nil, err
	}
	names := make([]string, len(scopes))
	for i, sc := range scopes {
		names[i] = string(sc)
	}
	tok := Prefix + secret.Token()
	now := s.now()
	t := &models.APIToken{AccountID: owner.AccountID, AdminID: owner.ID, Name: strings.TrimSpace(in.Name), Scopes: strings.Join(names, " "),
		TokenHash: secret.Hash(tok), CreatedAt: now}
	details := map[string]string{"token": t.Name, "scopes": t.Scopes}
	if in.ExpiresIn > 0 {
		exp := now.Add(in.ExpiresIn)
		t.ExpiresAt = &exp
		details["expires_at"] = exp.Format(time.RFC3339)
	}
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreateAPIToken(ctx, t); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.NewEvent(&t.AccountID, models.EventAPI, models.SubTokenCreated, who, "", details))
	})
	if err != nil {
		return "", nil, err
	}
	return tok, t, nil
}

// List returns the tokens of the actor's account, newest first.
func (s *Service) List(ctx context.Context, actor *models.Admin) ([]models.APIToken, error) {
	return s.store.APITokens(ctx, actor.AccountID)
}

// Revoke revokes a live token of the actor's account (an API / Token Revoked event); any
// other id is models.ErrNotFound.
func (s *Service) Revoke(ctx context.Context, actor *models.Admin, ip string, id int64) (*models.APIToken, error) {
	var t *models.APIToken
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		var err error
		if t, err = tx.RevokeAPIToken(ctx, actor.AccountID, id, s.now()); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.NewEvent(&t.AccountID, models.EventAPI, models.SubTokenRevoked, models.AdminActor(actor, ip), "",
			map[string]string{"token": t.Name}))
	})
	return t, err
}

// Authenticate returns a live token and the Admin value its calls act as (role admin, the
// token's account, Token set), and records its use (time and address, at most once a minute
// from the same address). Anything else is ErrUnauthorized.
func (s *Service) Authenticate(ctx context.Context, token, ip string) (*models.APIToken, *models.Admin, error) {
	if !strings.HasPrefix(token, Prefix) {
		return nil, nil, ErrUnauthorized
	}
	t, err := s.store.APITokenByHash(ctx, secret.Hash(token))
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil, ErrUnauthorized
	}
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	if !t.Live(now) {
		return nil, nil, ErrUnauthorized
	}
	if t.LastUsedAt == nil || t.LastUsedIP != ip || now.Sub(*t.LastUsedAt) >= touchEvery {
		if err := s.store.TouchAPIToken(ctx, t.AccountID, t.ID, now, ip); err != nil {
			return nil, nil, err
		}
	}
	return t, &models.Admin{ID: t.AdminID, AccountID: t.AccountID, Role: models.RoleAdmin, Status: models.AdminActive,
		Token: &models.TokenActor{ID: t.ID, Name: t.Name}}, nil
}

// ParseExpiry reads a token lifetime: "" (never), a number of days ("30d"), of hours ("12h")
// or any Go duration.
func ParseExpiry(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "never" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, models.NewValidationError("expires", "Write the lifetime as days (30d), hours (12h) or never.")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, models.NewValidationError("expires", "Write the lifetime as days (30d), hours (12h) or never.")
	}
	return d, nil
}
