// Package users owns the SDP users of an account: creating them (with an invitation when the
// account's settings ask for one), listing and finding them, and the bulk actions of the Users
// page (generate registration code, resend invitation, reset password, disable, enable,
// delete), batched: up to a thousand users all-or-nothing in the request, more as a resumable
// background run (models/runs).
package users

import (
	"context"
	"errors"
	"strings"
	"time"

	"onramp/models"
	"onramp/models/codes"
	"onramp/models/mail"
	"onramp/models/runs"
	"onramp/models/secret"
	"onramp/models/store"
)

// PageSize is how many users a page of the list holds.
const PageSize = 50

// batchSize is how many users one statement of a bulk action touches.
const batchSize = 1000

// Outbox queues email inside the caller's transaction (models/mail implements it).
type Outbox interface {
	QueueInvitations(ctx context.Context, tx *store.Store, invs []mail.Invitation) error
	QueueDisabledNotices(ctx context.Context, tx *store.Store, ns []mail.DisabledNotice) error
}

// CodeIssuer generates registration codes inside the caller's transaction (models/codes), and
// opens the handouts that show them once to the admin who generated them.
type CodeIssuer interface {
	IssueForUsers(ctx context.Context, tx *store.Store, account *models.Account, us []models.SDPUser, in codes.Issue) (codes.Result, error)
	IssueForUserIDs(ctx context.Context, tx *store.Store, account *models.Account, ids []int64, in codes.Issue) (codes.Result, error)
	RunBatch() int
	IssueForNewUsers(ctx context.Context, tx *store.Store, account *models.Account, us []models.SDPUser, in codes.Issue) (codes.Result, error)
	EmailForUsers(ctx context.Context, tx *store.Store, account *models.Account, us []models.SDPUser, in codes.Issue) (codes.Result, error)
	NewHandout(ctx context.Context, tx *store.Store, admin *models.Admin, runID *int64, emailed bool) (int64, error)
}

// Config holds what invitations need.
type Config struct {
	BaseURL       string        // public URL of the server, for activation links
	ActivationTTL time.Duration // default 24 hours
}

// DeviceRevoker signs out every device of some users inside the caller's transaction
// (models/devices).
type DeviceRevoker interface {
	RevokeForUsers(ctx context.Context, tx *store.Store, accountID int64, userIDs []int64, reason string, who models.Actor) error
}

// Service manages SDP users.
type Service struct {
	store   *store.Store
	outbox  Outbox
	codes   CodeIssuer    // the codes of the "Generate registration code" action
	devices DeviceRevoker // signs out the devices of users whose password is reset or who are disabled
	runs    *runs.Runner  // actions over more than a thousand users, in the background
	cfg     Config
	now     func() time.Time
}

// New builds the service and adds its action batch to r.
func New(s *store.Store, o Outbox, c CodeIssuer, d DeviceRevoker, r *runs.Runner, cfg Config) *Service {
	if cfg.ActivationTTL == 0 {
		cfg.ActivationTTL = 24 * time.Hour
	}
	svc := &Service{store: s, outbox: o, codes: c, devices: d, runs: r, cfg: cfg, now: func() time.Time { return time.Now().UTC() }}
	r.Handle(models.RunUserAction, svc.actionBatch)
	return svc
}

// WithClock replaces the clock (tests).
func (s *Service) WithClock(now func() time.Time) *Service { s.now = now; return s }

// CreateInput is the New user form.
type CreateInput struct {
	FirstName, LastName, Email, Phone string
}

// Validate normalises the input and returns its field errors.
func (in *CreateInput) Validate() error {
	in.FirstName = strings.TrimSpace(in.FirstName)
	in.LastName = strings.TrimSpace(in.LastName)
	in.Email = models.NormalizeEmail(in.Email)
	in.Phone = strings.TrimSpace(in.Phone)
	v := &models.ValidationError{}
	if in.FirstName == "" {
		v.Add("first_name", "Enter a first name.")
	} else if m := models.ValidateName(in.FirstName); m != "" {
		v.Add("first_name", m)
	}
	if in.LastName == "" {
		v.Add("last_name", "Enter a last name.")
	} else if m := models.ValidateName(in.LastName); m != "" {
		v.Add("last_name", m)
	}
	if m := models.ValidateEmail(in.Email); m != "" {
		v.Add("email", m)
	}
	if len(in.Phone) > 32 || strings.Trim(in.Phone, "+0123456789 ()-.") != "" {
		v.Add("phone", "Enter a phone number with digits, spaces, + ( ) - or dots, at most 32 characters.")
	}
	return v.OrNil()
}

// Created is a user just created and, under the Registration Code method, the handout that
// shows the creator the user's first code once (0 without one).
type Created struct {
	User      *models.SDPUser
	HandoutID int64
}

// Create adds a user created in the console. Under the Invitation Email method with option 1 on,
// the invitation is queued in the same transaction as the user; under the Registration Code
// method the user's first code is generated in that transaction, for the creator's handout.
func (s *Service) Create(ctx context.Context, actor *models.Admin, ip string, in CreateInput) (Created, error) {
	if err := in.Validate(); err != nil {
		return Created{}, err
	}
	var handout int64
	u := &models.SDPUser{AccountID: actor.AccountID, FirstName: in.FirstName, LastName: in.LastName, Email: in.Email,
		Phone: in.Phone, Origin: models.OriginManual, Status: models.UserEnabled, Activation: models.ActivationNew}
	who := models.AdminActor(actor, ip)
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		account, err := tx.Account(ctx, actor.AccountID)
		if err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, u); err != nil {
			if errors.Is(err, models.ErrConflict) {
				return emailTaken()
			}
			return err
		}
		if err := tx.CreateEvent(ctx, models.UserEvent(u, models.EventUser, models.SubUserCreated, who,
			map[string]string{"origin": u.Origin})); err != nil {
			return err
		}
		issue := codes.Issue{Who: who}
		if account.ProvisioningMethod == models.MethodRegistrationCode {
			if handout, err = s.codes.NewHandout(ctx, tx, actor, nil, false); err != nil {
				return err
			}
			issue.HandoutID = &handout
		}
		return s.welcome(ctx, tx, account, u, issue, account.InvitesNewManualUsers(), "new user")
	})
	if err != nil {
		return Created{}, err
	}
	return Created{User: u, HandoutID: handout}, nil
}

// Get returns a user of the actor's account.
func (s *Service) Get(ctx context.Context, actor *models.Admin, id int64) (*models.SDPUser, error) {
	return s.store.User(ctx, actor.AccountID, id)
}

// Events returns the newest events about a user of the actor's account.
func (s *Service) Events(ctx context.Context, actor *models.Admin, id int64, limit int) ([]models.Event, error) {
	return s.store.UserEvents(ctx, actor.AccountID, id, limit)
}

// TotalCap is where the list's total stops counting: past it the list says "10,000+" (an exact
// count of a million users on every page view would cost more than the page itself).
const TotalCap = 10_000

// Page is one page of the Users list.
type Page struct {
	Users []models.SDPUser
	// Next is the cursor of the following page, "" on the last one; Prev that of the page
	// before, "" on the first one.
	Next, Prev string
	// Total is how many users match the filter, up to TotalCap; More says there are more.
	Total int64
	More  bool
}

// List returns a page of the actor's account's users, after or before a cursor (the first page
// when at is zero), with the total of the filter.
func (s *Service) List(ctx context.Context, actor *models.Admin, f Filter, at store.Keyset) (Page, error) {
	p, err := s.store.ListUsers(ctx, actor.AccountID, f.storeFilter(), at, PageSize, TotalCap)
	if err != nil {
		return Page{}, err
	}
	return Page{Users: p.Users, Next: p.Next, Prev: p.Prev, Total: min(p.Matching, TotalCap), More: p.Matching > TotalCap}, nil
}

// Invitations returns the newest invitation of each invited user among us (by Progress),
// keyed by user id: the Users list and the user page show its delivery state.
func (s *Service) Invitations(ctx context.Context, actor *models.Admin, us []models.SDPUser) (map[int64]models.UserMail, error) {
	var ids []int64
	for i := range us {
		if us[i].Progress() == models.ActivationInvitationSent {
			ids = append(ids, us[i].ID)
		}
	}
	return s.store.LatestUserMail(ctx, actor.AccountID, models.MailInvitation, ids)
}

// Groups lists the account's directory groups by name, for the filter.
func (s *Service) Groups(ctx context.Context, actor *models.Admin) ([]models.DirectoryGroup, error) {
	return s.store.AccountGroups(ctx, actor.AccountID)
}

// UserGroups lists the directory groups a user of the actor's account is in, by name.
func (s *Service) UserGroups(ctx context.Context, actor *models.Admin, id int64) ([]models.DirectoryGroup, error) {
	return s.store.UserGroups(ctx, actor.AccountID, id)
}

// Origins lists the origins present in the account, for the filter.
func (s *Service) Origins(ctx context.Context, actor *models.Admin) ([]string, error) {
	return s.store.UserOrigins(ctx, actor.AccountID)
}

// welcome starts a new user per the account's method, in tx: under Registration Code their
// first code (in.HandoutID shows it to its creator), under Invitation Email an invitation when
// invite says the account's option for this kind of user is on.
func (s *Service) welcome(ctx context.Context, tx *store.Store, account *models.Account, u *models.SDPUser, in codes.Issue, invite bool, why string) error {
	us := []models.SDPUser{*u}
	err := s.welcomeAll(ctx, tx, account, us, in, invite, why)
	u.Activation = us[0].Activation
	return err
}

// welcomeAll is welcome for many new users at once (a directory sync's batch).
func (s *Service) welcomeAll(ctx context.Context, tx *store.Store, account *models.Account, us []models.SDPUser, in codes.Issue, invite bool, why string) error {
	if account.ProvisioningMethod == models.MethodRegistrationCode {
		_, err := s.codes.IssueForNewUsers(ctx, tx, account, us, in)
		return err
	}
	if !invite || len(us) == 0 {
		return nil
	}
	return s.invite(ctx, tx, account, us, in.Who, why)
}

// invite issues a fresh activation link to each user (older links die), marks them invited,
// queues the emails and writes Invited events, all in tx.
func (s *Service) invite(ctx context.Context, tx *store.Store, account *models.Account, us []models.SDPUser, who models.Actor, why string) error {
	now := s.now()
	ids := make([]int64, len(us))
	tokens := make([]*models.OneTimeToken, len(us))
	links := make([]string, len(us))
	for i := range us {
		ids[i] = us[i].ID
		t := secret.Token()
		uid := us[i].ID
		tokens[i] = &models.OneTimeToken{Purpose: models.TokenUserActivation, TokenHash: secret.Hash(t),
			AccountID: &account.ID, SDPUserID: &uid, ExpiresAt: now.Add(s.cfg.ActivationTTL), CreatedAt: now}
		links[i] = s.cfg.BaseURL + "/myvpn/activate/" + t
	}
	if err := tx.RetireUserTokens(ctx, models.TokenUserActivation, ids, now); err != nil {
		return err
	}
	if err := tx.CreateTokens(ctx, tokens); err != nil {
		return err
	}
	if err := tx.MarkUsersInvited(ctx, account.ID, ids); err != nil {
		return err
	}
	events := make([]*models.Event, len(us))
	invs := make([]mail.Invitation, len(us))
	for i := range us {
		u := &us[i]
		u.Activation = models.ActivationInvitationSent
		invs[i] = mail.Invitation{AccountID: account.ID, SDPUserID: u.ID, AccountName: account.Name,
			To: u.Email, FirstName: u.FirstName, ActivationURL: links[i], ExpiresAt: now.Add(s.cfg.ActivationTTL)}
		events[i] = models.UserEvent(u, models.EventUser, models.SubUserInvited, who, map[string]string{"reason": why})
	}
	if err := s.outbox.QueueInvitations(ctx, tx, invs); err != nil {
		return err
	}
	return tx.CreateEvents(ctx, events)
}
