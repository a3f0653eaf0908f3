package codes

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"onramp/models"
	"onramp/models/jobs"
	"onramp/models/metrics"
	"onramp/models/runs"
	"onramp/models/secret"
	"onramp/models/store"
)

// batchSize is how many users (or codes) one statement of a bulk operation touches.
const batchSize = 1000

// Config tunes the service.
type Config struct {
	Logger *slog.Logger
	// ExpiryInterval is how often the expiry job wipes the copies of expired codes; 0 means
	// a minute.
	ExpiryInterval time.Duration
	// BaseURL is the public URL of the server, which enrollment links name.
	BaseURL string
	// Mailer queues the emails of email_code (the outbox).
	Mailer Mailer
	// Metrics counts the codes generated.
	Metrics *metrics.Metrics
	// RunBatch is how many users a transaction of a background generation gives a code (0:
	// defaultRunBatch).
	RunBatch int
}

// defaultRunBatch is how many users a transaction of a background generation gives a code: a
// batch costs a few statements whatever its size (its values bound as arrays), so bigger
// batches spend less on round trips and commits, while a transaction stays a second or two.
const defaultRunBatch = 5000

// Service generates, revokes, expires and exports registration codes. It has no HTTP in it:
// the console's handlers call it with the signed-in admin.
type Service struct {
	store       *store.Store
	sealer      *Sealer
	runs        *runs.Runner
	log         *slog.Logger
	now         func() time.Time
	expiryEvery time.Duration
	baseURL     string
	mailer      Mailer
	metrics     *metrics.Metrics
	runBatch    int
}

// NewService builds the service: "Generate for new users" runs on r, the expiry job on j.
func NewService(s *store.Store, keys *secret.Keys, j *jobs.Jobs, r *runs.Runner, cfg Config) *Service {
	svc := &Service{store: s, sealer: NewSealer(keys), log: cfg.Logger, expiryEvery: cfg.ExpiryInterval, runs: r,
		baseURL: strings.TrimRight(cfg.BaseURL, "/"), mailer: cfg.Mailer, runBatch: cfg.RunBatch, metrics: cfg.Metrics, now: func() time.Time { return time.Now().UTC() }}
	if svc.log == nil {
		svc.log = slog.New(slog.DiscardHandler)
	}
	if svc.runBatch <= 0 {
		svc.runBatch = defaultRunBatch
	}
	if svc.expiryEvery <= 0 {
		svc.expiryEvery = time.Minute
	}
	r.Handle(models.RunGenerateCodes, svc.generateBatch)
	svc.registerJobs(j)
	return svc
}

// WithClock replaces the clock (tests).
func (s *Service) WithClock(now func() time.Time) *Service { s.now = now; return s }

// RunBatch is how many users a transaction of a background generation gives a code.
func (s *Service) RunBatch() int { return s.runBatch }

// Sealer is the service's sealer (the client API finds codes with the same keys).
func (s *Service) Sealer() *Sealer { return s.sealer }

// Result counts what a generation for selected users did.
type Result struct {
	Generated  int // codes generated, one per eligible user
	Skipped    int // selected users without a new code (disabled, or with MFA)
	SkippedMFA int // of Skipped, users with MFA configured (codes do not support MFA)
}

// GenerateForUsers gives each enabled user among ids (of the actor's account) one new code, in
// addition to the codes they have, in one transaction, a batch of users per statement.
// Disabled users and users with MFA are skipped and counted; ids of other accounts are not
// found.
func (s *Service) GenerateForUsers(ctx context.Context, actor *models.Admin, ip string, ids []int64) (Result, error) {
	who := models.AdminActor(actor, ip)
	var res Result
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		account, err := tx.Account(ctx, actor.AccountID)
		if err != nil {
			return err
		}
		for start := 0; start < len(ids); start += batchSize {
			us, err := tx.UsersByIDs(ctx, actor.AccountID, ids[start:min(start+batchSize, len(ids))])
			if err != nil {
				return err
			}
			r, err := s.IssueForUsers(ctx, tx, account, us, Issue{Who: who})
			if err != nil {
				return err
			}
			res.add(r)
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

func (r *Result) add(o Result) {
	r.Generated += o.Generated
	r.Skipped += o.Skipped
	r.SkippedMFA += o.SkippedMFA
}

// Issue says who generates codes and where they go.
type Issue struct {
	Who models.Actor
	// HandoutID is the handout of the admin who generates them (NewHandout): the codes are
	// shown to them once, and downloaded once.
	HandoutID *int64
	// Emailed records the codes as mailed (EmailForUsers queues the mail in the same
	// transaction).
	Emailed bool
}

// eligible keeps the enabled users without MFA (codes do not support MFA) and counts the
// others.
func eligible(us []models.SDPUser) ([]models.SDPUser, Result) {
	out := make([]models.SDPUser, 0, len(us))
	var r Result
	for i := range us {
		switch {
		case us[i].Status != models.UserEnabled:
			r.Skipped++
		case us[i].MFAConfigured:
			r.Skipped++
			r.SkippedMFA++
		default:
			out = append(out, us[i])
		}
	}
	r.Generated = len(out)
	return out, r
}

// IssueForUsers generates one code (generated by the actor's role) for each enabled user
// without MFA of us inside tx, the caller's transaction (the Users Actions' one), and counts
// what it generated and skipped. The caller loaded us in tx (locked on PostgreSQL).
func (s *Service) IssueForUsers(ctx context.Context, tx *store.Store, account *models.Account, us []models.SDPUser, in Issue) (Result, error) {
	ok, r := eligible(us)
	_, err := s.issue(ctx, tx, account, ok, generatedBy(in.Who), in)
	return r, s.count(ctx, tx, account, in, r, err)
}

// IssueForUserIDs is IssueForUsers for the account's users among ids, none of them read
// first: locking each enabled user without MFA is the only read of them (a background Users
// action, a batch of users per transaction).
func (s *Service) IssueForUserIDs(ctx context.Context, tx *store.Store, account *models.Account, ids []int64, in Issue) (Result, error) {
	claimed, skipped, skippedMFA, err := tx.ClaimUsersForCode(ctx, account.ID, ids)
	if err != nil {
		return Result{}, err
	}
	r := Result{Generated: len(claimed), Skipped: skipped, SkippedMFA: skippedMFA}
	_, err = s.insert(ctx, tx, account, claimed, generatedBy(in.Who), in)
	return r, s.count(ctx, tx, account, in, r, err)
}

// count adds r to the handout the codes went to, if any, unless err.
func (s *Service) count(ctx context.Context, tx *store.Store, account *models.Account, in Issue, r Result, err error) error {
	if err != nil || in.HandoutID == nil {
		return err
	}
	return tx.CountHandout(ctx, account.ID, *in.HandoutID, r.Generated, r.Skipped, r.SkippedMFA)
}

// IssueForNewUsers is the Registration Code method's rule for users just created (in the
// console now, by a directory import later): under that method each of us that is enabled and
// without MFA gets a code ("creation") in tx, the transaction that created them; under the
// Invitation Email method nothing happens.
func (s *Service) IssueForNewUsers(ctx context.Context, tx *store.Store, account *models.Account, us []models.SDPUser, in Issue) (Result, error) {
	if account.ProvisioningMethod != models.MethodRegistrationCode {
		return Result{}, nil
	}
	ok, r := eligible(us)
	_, err := s.issue(ctx, tx, account, ok, models.GeneratedByCreation, in)
	return r, s.count(ctx, tx, account, in, r, err)
}

// generatedBy records a code generated by an admin or helpdesk agent with their role.
func generatedBy(who models.Actor) string {
	if who.Type == models.ActorHelpdesk {
		return models.GeneratedByHelpdesk
	}
	return models.GeneratedByAdmin
}

// issued is a code just generated, its text still in memory (for the email that carries it).
type issued struct {
	user      *models.SDPUser
	id        int64
	code      string // formatted XXXX-XXXX-XXXX-XXXX
	expiresAt time.Time
}

// issue gives each of us one code, with its event, in tx. The caller loaded us in tx (locked on
// PostgreSQL).
func (s *Service) issue(ctx context.Context, tx *store.Store, account *models.Account, us []models.SDPUser, by string, in Issue) ([]issued, error) {
	ids := make([]int64, len(us))
	for i := range us {
		ids[i] = us[i].ID
	}
	out, err := s.insert(ctx, tx, account, ids, by, in)
	for i := range out {
		out[i].user = &us[i]
	}
	return out, err
}

// insert generates one code for each of the users userIDs, with its event, in tx: a statement
// for the codes and one for the events, whatever their number; the users' locks are the
// caller's. The code's text exists only here, in memory: the row keeps its lookup digest and its
// sealed copy.
func (s *Service) insert(ctx context.Context, tx *store.Store, account *models.Account, userIDs []int64, by string, in Issue) ([]issued, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	now := s.now()
	expires := now.Add(time.Duration(account.CodeExpiryHours) * time.Hour)
	nc := store.NewCodes{AccountID: account.ID, GeneratedBy: by, HandoutID: in.HandoutID, CreatedAt: now, ExpiresAt: expires,
		UserIDs: userIDs, Lookups: make([]string, len(userIDs)), Sealed: make([]string, len(userIDs))}
	if in.Who.Type == models.ActorAdmin || in.Who.Type == models.ActorHelpdesk {
		nc.AdminID = in.Who.ID
	}
	if in.Emailed {
		nc.EmailedAt = &now
	}
	out := make([]issued, len(userIDs))
	for i := range userIDs {
		code := New()
		nc.Lookups[i], nc.Sealed[i] = s.sealer.Lookup(code), s.sealer.Seal(account.ID, code)
		out[i] = issued{code: Format(code), expiresAt: expires}
	}
	ids, err := tx.InsertCodes(ctx, nc)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].id = ids[i]
	}
	s.metrics.CodesGenerated(by, len(ids))
	ev := models.NewEvent(&account.ID, models.EventCode, models.SubCodeGenerated, in.Who, "",
		map[string]string{"code_id": store.CodeIDMark, "generated_by": by, "expires_at": expires.Format(time.RFC3339)})
	return out, tx.CreateCodeEvents(ctx, account.ID, ids, ev)
}

// RevokeForUsers revokes every active code of the account's users among userIDs inside tx (the
// caller's transaction): revoked now, encrypted copies wiped, one Revoked event
// per code. Used and expired codes keep their state (an expired code's copy is wiped too).
func RevokeForUsers(ctx context.Context, tx *store.Store, accountID int64, userIDs []int64, who models.Actor) error {
	return RevokeForUsersAt(ctx, tx, accountID, userIDs, who, time.Now().UTC())
}

// RevokeForUsersAt is RevokeForUsers at a given time (services with their own clock).
func RevokeForUsersAt(ctx context.Context, tx *store.Store, accountID int64, userIDs []int64, who models.Actor, now time.Time) error {
	for start := 0; start < len(userIDs); start += batchSize {
		ids := userIDs[start:min(start+batchSize, len(userIDs))]
		revoked, err := tx.RevokeUserCodes(ctx, accountID, ids, now)
		if err != nil || len(revoked) == 0 {
			if err != nil {
				return err
			}
			continue
		}
		emails, err := tx.UserEmails(ctx, accountID, ids)
		if err != nil {
			return err
		}
		evs := make([]*models.Event, len(revoked))
		for i, c := range revoked {
			e := models.NewEvent(&accountID, models.EventCode, models.SubCodeRevoked, who, emails[c.SDPUserID],
				map[string]string{"code_id": strconv.FormatInt(c.ID, 10)})
			uid := c.SDPUserID
			e.SDPUserID = &uid
			evs[i] = e
		}
		if err := tx.CreateEvents(ctx, evs); err != nil {
			return err
		}
	}
	return nil
}

// RevokeUserCodes revokes every active code of a user of the actor's account (one Revoked
// event each), as Reset password does, without its other effects: the admin API's revoke.
func (s *Service) RevokeUserCodes(ctx context.Context, actor *models.Admin, ip string, userID int64) error {
	return s.store.Tx(ctx, func(tx *store.Store) error {
		if _, err := tx.User(ctx, actor.AccountID, userID); err != nil {
			return err
		}
		return RevokeForUsersAt(ctx, tx, actor.AccountID, []int64{userID}, models.AdminActor(actor, ip), s.now())
	})
}

// UserCode is a code as the user page shows it (never its text), with the email of the admin
// who generated it.
type UserCode struct {
	models.RegistrationCode
	AdminEmail string
	DeviceName string
}

// UserCodes lists the newest codes of a user of the actor's account, for the user page.
func (s *Service) UserCodes(ctx context.Context, actor *models.Admin, userID int64) ([]UserCode, error) {
	rows, err := s.store.UserCodes(ctx, actor.AccountID, userID, 100)
	out := make([]UserCode, len(rows))
	for i, r := range rows {
		out[i] = UserCode(r)
	}
	return out, err
}

// Now is the service's clock (for the states shown next to its codes).
func (s *Service) Now() time.Time { return s.now() }
