// Package admins owns the Administrators page's rules: listing an account's admins, adding one
// with a one-time set-password link, changing roles and disabling, turning off another admin's
// two-step verification, and never leaving an account without an active admin.
package admins

import (
	"context"
	"errors"
	"time"

	"onramp/models"
	"onramp/models/password"
	"onramp/models/secret"
	"onramp/models/store"
)

// PageSize is how many admins a page of the list holds.
const PageSize = 50

// LastAdminMessage refuses a change that would leave the account without an active admin.
const LastAdminMessage = "An account needs at least one active admin: make someone else an admin first."

// Service manages admins.
type Service struct {
	store   *store.Store
	hasher  *password.Hasher
	linkTTL time.Duration
	now     func() time.Time
}

// New builds the service; linkTTL is how long a set-password link lives.
func New(s *store.Store, h *password.Hasher, linkTTL time.Duration) *Service {
	return &Service{store: s, hasher: h, linkTTL: linkTTL, now: func() time.Time { return time.Now().UTC() }}
}

// Page is one page of an account's admins, ordered by id.
type Page struct {
	Admins []models.Admin
	// NextAfter is the id to pass as after for the next page, or 0 on the last page.
	NextAfter int64
}

// List returns a page of the actor's account's admins after the given id.
func (s *Service) List(ctx context.Context, actor *models.Admin, after int64) (Page, error) {
	p, err := s.store.ListAdmins(ctx, actor.AccountID, after, PageSize)
	return Page(p), err
}

// LinkTTL is how long a set-password link lives.
func (s *Service) LinkTTL() time.Duration { return s.linkTTL }

// Get returns an admin of the actor's account.
func (s *Service) Get(ctx context.Context, actor *models.Admin, id int64) (*models.Admin, error) {
	return s.store.Admin(ctx, actor.AccountID, id)
}

// AddInput is the form for a new admin.
type AddInput struct {
	Email, Name string
	Role        models.Role
}

// Validate returns the input's field errors.
func (in *AddInput) Validate() error {
	in.Email = models.NormalizeEmail(in.Email)
	v := &models.ValidationError{}
	if m := models.ValidateEmail(in.Email); m != "" {
		v.Add("email", m)
	}
	if m := models.ValidateName(in.Name); m != "" {
		v.Add("name", m)
	}
	if !in.Role.Valid() {
		v.Add("role", "Choose Admin or Helpdesk.")
	}
	return v.OrNil()
}

// Add creates an admin without a password and returns the one-time link token that lets them
// set one. The token is returned once and stored only as a hash.
func (s *Service) Add(ctx context.Context, actor *models.Admin, ip string, in AddInput) (*models.Admin, string, error) {
	if err := in.Validate(); err != nil {
		return nil, "", err
	}
	admin := &models.Admin{AccountID: actor.AccountID, Email: in.Email, Name: in.Name, Role: in.Role, Status: models.AdminActive}
	var token string
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreateAdmin(ctx, admin); err != nil {
			return emailTaken(err)
		}
		var err error
		if token, err = s.issueLink(ctx, tx, admin); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.NewEvent(&actor.AccountID, models.EventAdmin, models.SubAdminCreated,
			models.AdminActor(actor, ip), admin.Email, map[string]string{"role": string(admin.Role)}))
	})
	if err != nil {
		return nil, "", err
	}
	return admin, token, nil
}

// NewPasswordLink issues a fresh set-password link for an admin (older links die), for someone
// who lost theirs or forgot their password.
func (s *Service) NewPasswordLink(ctx context.Context, actor *models.Admin, id int64) (*models.Admin, string, error) {
	var token string
	var admin *models.Admin
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		var err error
		if admin, err = tx.Admin(ctx, actor.AccountID, id); err != nil {
			return err
		}
		if admin.Status != models.AdminActive {
			return models.NewValidationError("", "Enable this administrator before issuing a password link.")
		}
		token, err = s.issueLink(ctx, tx, admin)
		return err
	})
	return admin, token, err
}

func (s *Service) issueLink(ctx context.Context, tx *store.Store, admin *models.Admin) (string, error) {
	now := s.now()
	if err := tx.RetireTokens(ctx, models.TokenAdminPassword, admin.ID, now); err != nil {
		return "", err
	}
	token := secret.Token()
	id := admin.ID
	return token, tx.CreateToken(ctx, &models.OneTimeToken{Purpose: models.TokenAdminPassword, TokenHash: secret.Hash(token),
		AccountID: &admin.AccountID, AdminID: &id, ExpiresAt: now.Add(s.linkTTL)})
}

// SetRole changes an admin's role; the last active admin cannot be demoted.
func (s *Service) SetRole(ctx context.Context, actor *models.Admin, ip string, id int64, role models.Role) (*models.Admin, error) {
	if !role.Valid() {
		return nil, models.NewValidationError("role", "Choose Admin or Helpdesk.")
	}
	var target *models.Admin
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.LockAdmins(ctx, actor.AccountID); err != nil {
			return err
		}
		var err error
		if target, err = tx.Admin(ctx, actor.AccountID, id); err != nil {
			return err
		}
		if target.Role == role {
			return nil
		}
		if target.Role == models.RoleAdmin && target.Status == models.AdminActive {
			if err := ensureAnother(ctx, tx, actor.AccountID); err != nil {
				return err
			}
		}
		if err := tx.SetAdminRole(ctx, actor.AccountID, id, role); err != nil {
			return err
		}
		from := target.Role
		target.Role = role
		return tx.CreateEvent(ctx, models.NewEvent(&actor.AccountID, models.EventAdmin, models.SubRoleChanged,
			models.AdminActor(actor, ip), target.Email, map[string]string{"from": string(from), "to": string(role)}))
	})
	return target, err
}

// SetDisabled disables (ending every session at once) or enables an admin. The last active
// admin cannot be disabled.
func (s *Service) SetDisabled(ctx context.Context, actor *models.Admin, ip string, id int64, disabled bool) (*models.Admin, error) {
	status, sub := models.AdminActive, models.SubAdminEnabled
	if disabled {
		status, sub = models.AdminDisabled, models.SubAdminDisabled
	}
	var target *models.Admin
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.LockAdmins(ctx, actor.AccountID); err != nil {
			return err
		}
		var err error
		if target, err = tx.Admin(ctx, actor.AccountID, id); err != nil {
			return err
		}
		if target.Status == status {
			return nil
		}
		if disabled && target.Role == models.RoleAdmin {
			if err := ensureAnother(ctx, tx, actor.AccountID); err != nil {
				return err
			}
		}
		if err := tx.SetAdminStatus(ctx, actor.AccountID, id, status); err != nil {
			return err
		}
		if disabled {
			if err := tx.DeleteOwnerSessions(ctx, models.ConsoleSession, id, ""); err != nil {
				return err
			}
		}
		target.Status = status
		return tx.CreateEvent(ctx, models.NewEvent(&actor.AccountID, models.EventAdmin, sub,
			models.AdminActor(actor, ip), target.Email, nil))
	})
	return target, err
}

// TurnOffTwoStep turns off another admin's two-step verification, for someone who lost their
// authenticator: they sign in with the password alone again, and can set it up anew. Only
// admins may (helpdesk gets models.ErrForbidden), and not on themselves: their own page asks
// for a code or the password. Their sessions are kept: the reset lowers what the next sign-in
// asks, and ending sessions would not undo that. The event names both: the actor and the
// admin it is about.
func (s *Service) TurnOffTwoStep(ctx context.Context, actor *models.Admin, ip string, id int64) (*models.Admin, error) {
	if actor.Role != models.RoleAdmin {
		return nil, models.ErrForbidden
	}
	if id == actor.ID {
		return nil, models.NewValidationError("", "Turn off your own two-step verification from your account menu.")
	}
	var target *models.Admin
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		var err error
		if target, err = tx.Admin(ctx, actor.AccountID, id); err != nil {
			return err
		}
		if !target.HasTOTP() {
			return models.NewValidationError("", target.Name+" does not have two-step verification on.")
		}
		if err := tx.ClearAdminTOTP(ctx, actor.AccountID, id); err != nil {
			return err
		}
		target.TOTPSecret = ""
		return tx.CreateEvent(ctx, models.NewEvent(&actor.AccountID, models.EventAdmin, models.SubMFARemoved,
			models.AdminActor(actor, ip), target.Email, map[string]string{"verified_with": "turned off by another admin", "by": actor.Email}))
	})
	return target, err
}

// emailTaken turns the conflict of adding an admin into the form's message. Emails are unique
// per account: the conflict is with an admin of this account, never of another, whose admins
// this must not reveal (docs/security.md, Tenancy).
func emailTaken(err error) error {
	if errors.Is(err, models.ErrConflict) {
		return models.NewValidationError("email", "An administrator with this email already exists in this account.")
	}
	return err
}

// ensureAnother fails unless the account has more than one active admin.
func ensureAnother(ctx context.Context, tx *store.Store, accountID int64) error {
	n, err := tx.CountActiveAdmins(ctx, accountID)
	if err != nil {
		return err
	}
	if n <= 1 {
		return models.NewValidationError("", LastAdminMessage)
	}
	return nil
}

// CreateInput is an admin created from the command line, with a password.
type CreateInput struct {
	Account  string
	Email    string
	Name     string
	Role     models.Role
	Password string
}

// Create makes an admin with a password, creating the account when it does not exist yet
// (`onramp admin create`). It reports whether the account was created.
func (s *Service) Create(ctx context.Context, in CreateInput) (*models.Admin, bool, error) {
	in.Account = models.NormalizeEmail(in.Account)
	add := AddInput{Email: in.Email, Name: in.Name, Role: in.Role}
	v := &models.ValidationError{}
	if err := add.Validate(); err != nil {
		var fe *models.ValidationError
		if errors.As(err, &fe) {
			v.Fields = fe.Fields
		}
	}
	if m := models.ValidateAccountName(in.Account); m != "" {
		v.Add("account", m)
	}
	if m := password.Validate(in.Password, in.Email, in.Name, in.Account); m != "" {
		v.Add("password", m)
	}
	if err := v.OrNil(); err != nil {
		return nil, false, err
	}
	hash, err := s.hasher.Hash(in.Password)
	if err != nil {
		return nil, false, err
	}
	admin := &models.Admin{Email: add.Email, Name: add.Name, Role: add.Role, Status: models.AdminActive, PasswordHash: hash}
	created := false
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		account, err := tx.AccountByName(ctx, in.Account)
		if errors.Is(err, models.ErrNotFound) {
			account, created = models.NewAccount(in.Account), true
			err = tx.CreateAccount(ctx, account)
		}
		if err != nil {
			return err
		}
		admin.AccountID = account.ID
		if err := tx.CreateAdmin(ctx, admin); err != nil {
			return emailTaken(err)
		}
		actor := models.Actor{Type: models.ActorSystem, Label: "command line"}
		return tx.CreateEvent(ctx, models.NewEvent(&account.ID, models.EventAdmin, models.SubAdminCreated, actor, admin.Email,
			map[string]string{"role": string(admin.Role), "via": "command line"}))
	})
	return admin, created, err
}
