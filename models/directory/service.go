package directory

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"onramp/models"
	"onramp/models/jobs"
	"onramp/models/ratelimit"
	"onramp/models/secret"
	"onramp/models/store"
	"onramp/models/twostep"
	"onramp/models/users"
)

// Users is what SCIM does to SDP users (models/users): the console's own paths.
type Users interface {
	CreateFromDirectory(ctx context.Context, d *models.Directory, ip string, p users.DirectoryProfile) (*models.SDPUser, error)
	UpdateFromDirectory(ctx context.Context, d *models.Directory, ip string, id int64, change func(*users.DirectoryProfile) error) (*models.SDPUser, error)
	DeleteFromDirectory(ctx context.Context, d *models.Directory, ip string, id int64) error
	DirectoryUser(ctx context.Context, d *models.Directory, id int64) (*models.SDPUser, error)
	DirectoryUsers(ctx context.Context, d *models.Directory, f store.DirectoryUserFilter, offset, limit int) ([]models.SDPUser, int64, error)
	// ApplyDirectoryBatch is a batch of an LDAP sync, in the sync's transaction.
	ApplyDirectoryBatch(ctx context.Context, tx *store.Store, d *models.Directory, b users.DirectoryBatch) error
}

// Service manages directories, serves SCIM and syncs LDAP directories.
type Service struct {
	store *store.Store
	users Users
	box   *twostep.Sealer // LDAP bind passwords
	jobs  *jobs.Jobs      // runs the syncs StartSync queues (ScheduleSyncs)
	now   func() time.Time
	// pageSize is the paged search's page of a sync; 0 is ldap.DefaultPageSize (tests make it
	// small to read many pages).
	pageSize uint32
	// authFails is each client address's budget of failed SCIM authentications.
	authFails *ratelimit.Limiter
}

// The budget of failed SCIM authentications per client address (an IPv4 address, an IPv6
// /64): AuthFailBurst, then one more every AuthFailEvery. Past it, every request from the
// address is refused with a *models.RateLimitError before its token is looked at, a good
// token's too; requests that authenticate spend nothing, however many run at once. Tokens are
// 256-bit, so this is not what keeps them from being guessed: it keeps a misconfigured or
// hostile client from hammering the database and the logs, and failures checked at the same
// moment may overrun it by those in flight.
const (
	AuthFailBurst = 10
	AuthFailEvery = 6 * time.Second
)

// New builds the service; keys seal the LDAP bind passwords.
func New(s *store.Store, u Users, keys *secret.Keys) *Service {
	svc := &Service{store: s, users: u, box: twostep.NewSealer(keys.DeriveAll("ldap-password")...),
		now: func() time.Time { return time.Now().UTC() }}
	svc.authFails = ratelimit.New(AuthFailBurst, AuthFailEvery).WithClock(func() time.Time { return svc.now() }).Shares(s, "scim.auth.ip")
	return svc
}

// WithClock replaces the clock (tests).
func (s *Service) WithClock(now func() time.Time) *Service { s.now = now; return s }

// ErrUnauthorized is a missing, unknown or revoked SCIM token.
var ErrUnauthorized = &Error{Status: 401, Detail: "Missing, unknown or revoked bearer token."}

// IssueSCIMToken creates a SCIM token for the directory named label of the named account
// (creating the directory when the account has none of that name) and returns the token: it
// is shown once, only its hash is kept. A SCIM / Token Created event names the directory.
func (s *Service) IssueSCIMToken(ctx context.Context, accountName, label string, who models.Actor) (string, error) {
	return s.issueSCIMToken(ctx, accountName, label, who, false)
}

// CreateSCIMDirectory is the console's New SCIM directory: like IssueSCIMToken, but a name the
// account already has (in any case) is refused rather than given another token.
func (s *Service) CreateSCIMDirectory(ctx context.Context, accountName, label string, who models.Actor) (string, error) {
	return s.issueSCIMToken(ctx, accountName, label, who, true)
}

func (s *Service) issueSCIMToken(ctx context.Context, accountName, label string, who models.Actor, mustBeNew bool) (string, error) {
	label = strings.TrimSpace(label)
	if label == "" || len(label) > 100 {
		return "", models.NewValidationError("name", "Enter a directory name of at most 100 characters.")
	}
	tok := secret.Token()
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		account, err := tx.AccountByName(ctx, accountName)
		if err != nil {
			return err
		}
		if mustBeNew {
			if err := nameTaken(ctx, tx, account.ID, label); err != nil {
				return err
			}
		}
		d, err := tx.DirectoryByName(ctx, account.ID, label)
		if errors.Is(err, models.ErrNotFound) {
			now := s.now()
			d = &models.Directory{AccountID: account.ID, Name: label, Kind: models.DirectorySCIM, CreatedAt: now, UpdatedAt: now}
			err = tx.CreateDirectory(ctx, d)
		}
		if err != nil {
			return err
		}
		if d.Kind != models.DirectorySCIM {
			return models.NewValidationError("name", "The directory "+label+" is not a SCIM directory.")
		}
		t := &models.DirectoryToken{AccountID: account.ID, DirectoryID: d.ID, Name: label, TokenHash: secret.Hash(tok), CreatedAt: s.now()}
		if err := tx.CreateDirectoryToken(ctx, t); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.NewEvent(&account.ID, models.EventSCIM, models.SubTokenCreated, who, "",
			map[string]string{"directory": d.Name, "token": t.Name}))
	})
	if err != nil {
		return "", err
	}
	return tok, nil
}

// Authenticate returns the directory of a live token and records its use (time and IP). A
// missing, unknown or revoked token is ErrUnauthorized and spends a token of the address's
// failure budget; with none left the answer is a *models.RateLimitError.
func (s *Service) Authenticate(ctx context.Context, token, ip string) (_ *models.Directory, err error) {
	key := ratelimit.ClientKey(ip)
	// Peek, not Take: an identity provider sends many requests at once from one address, and
	// a token held by each until it authenticated would refuse good ones past the burst.
	if ok, wait := s.authFails.Peek(key); !ok {
		return nil, &models.RateLimitError{RetryAfter: wait}
	}
	defer func() {
		if errors.Is(err, ErrUnauthorized) {
			s.authFails.Charge(key)
		}
	}()
	if token == "" {
		return nil, ErrUnauthorized
	}
	t, d, err := s.store.LiveDirectoryToken(ctx, secret.Hash(token))
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrUnauthorized
	}
	if err != nil {
		return nil, err
	}
	if now := s.now(); t.LastUsedAt == nil || t.LastUsedIP != ip || now.Sub(*t.LastUsedAt) >= touchEvery {
		if err := s.store.TouchDirectoryToken(ctx, t.AccountID, t.ID, now, ip); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// touchEvery is how stale a token's last use may be shown. An identity provider sends many
// requests at once on one token: updating its row on each would queue them all on that row.
const touchEvery = time.Minute

// ListResponse is a page of /Users or /Groups (RFC 7644 §3.4.2).
type ListResponse[T any] struct {
	Schemas      []string `json:"schemas"`
	TotalResults int64    `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []T      `json:"Resources"`
}

// MaxResults caps count (advertised in /ServiceProviderConfig).
const MaxResults = 200

// ListUsers returns the directory's users matching filter in a stable order (creation),
// from the 1-based startIndex, at most count (0: only the total).
func (s *Service) ListUsers(ctx context.Context, d *models.Directory, filter string, startIndex, count int) (*ListResponse[*User], error) {
	f, err := ParseUserFilter(filter)
	if err != nil {
		return nil, err
	}
	startIndex = max(startIndex, 1)
	count = min(max(count, 0), MaxResults)
	us, total, err := s.users.DirectoryUsers(ctx, d, f, startIndex-1, count)
	if err != nil {
		return nil, err
	}
	out := &ListResponse[*User]{Schemas: []string{SchemaList}, TotalResults: total, StartIndex: startIndex, ItemsPerPage: len(us), Resources: []*User{}}
	for i := range us {
		out.Resources = append(out.Resources, resource(&us[i]))
	}
	return out, nil
}

// GetUser returns one of the directory's users by SCIM id.
func (s *Service) GetUser(ctx context.Context, d *models.Directory, id string) (*User, error) {
	n, err := parseID(id)
	if err != nil {
		return nil, err
	}
	u, err := s.users.DirectoryUser(ctx, d, n)
	if err != nil {
		return nil, notFound(err, id)
	}
	return resource(u), nil
}

// CreateUser adds a user (POST /Users); a userName (email) the account has is 409 uniqueness.
func (s *Service) CreateUser(ctx context.Context, d *models.Directory, ip string, in *User) (*User, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	u, err := s.users.CreateFromDirectory(ctx, d, ip, in.profile())
	if err != nil {
		return nil, userError(err)
	}
	return resource(u), nil
}

// ReplaceUser is PUT /Users/{id}: the full resource replaces the mapped attributes, and
// active:false disables (Okta's custom apps deactivate this way).
func (s *Service) ReplaceUser(ctx context.Context, d *models.Directory, ip, id string, in *User) (*User, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	return s.update(ctx, d, ip, id, func(p *users.DirectoryProfile) error {
		*p = in.profile()
		return nil
	})
}

// PatchUser is PATCH /Users/{id}.
func (s *Service) PatchUser(ctx context.Context, d *models.Directory, ip, id string, req *PatchRequest) (*User, error) {
	return s.update(ctx, d, ip, id, req.Apply)
}

func (s *Service) update(ctx context.Context, d *models.Directory, ip, id string, change func(*users.DirectoryProfile) error) (*User, error) {
	n, err := parseID(id)
	if err != nil {
		return nil, err
	}
	u, err := s.users.UpdateFromDirectory(ctx, d, ip, n, change)
	if err != nil {
		return nil, notFound(userError(err), id)
	}
	return resource(u), nil
}

// DeleteUser is DELETE /Users/{id}: the user goes, the events about them stay.
func (s *Service) DeleteUser(ctx context.Context, d *models.Directory, ip, id string) error {
	n, err := parseID(id)
	if err != nil {
		return err
	}
	return notFound(s.users.DeleteFromDirectory(ctx, d, ip, n), id)
}

func parseID(id string) (int64, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return 0, notFound(models.ErrNotFound, id)
	}
	return n, nil
}

// notFound turns models.ErrNotFound into a 404 that names the id.
func notFound(err error, id string) error {
	if errors.Is(err, models.ErrNotFound) {
		return &Error{Status: 404, Detail: "User " + id + " not found."}
	}
	return err
}

// userError turns a taken email or externalId into 409 uniqueness and field errors into 400
// invalidValue.
func userError(err error) error {
	var v *models.ValidationError
	switch {
	case errors.Is(err, models.ErrConflict):
		return &Error{Status: 409, Type: "uniqueness", Detail: "A user with this userName or externalId already exists."}
	case errors.As(err, &v):
		var msgs []string
		for f, m := range v.Fields {
			msgs = append(msgs, f+": "+m)
		}
		sort.Strings(msgs)
		return &Error{Status: 400, Type: "invalidValue", Detail: strings.Join(msgs, " ")}
	}
	return err
}
