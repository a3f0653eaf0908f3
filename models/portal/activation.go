package portal

import (
	"context"
	"errors"

	"onramp/models"
	"onramp/models/password"
	"onramp/models/ratelimit"
	"onramp/models/secret"
	"onramp/models/store"
)

// Invitation is what a live activation link is for.
type Invitation struct {
	User    *models.SDPUser
	Account *models.Account
}

// CheckActivation reports what a live activation link is for, or models.ErrGone when it is
// unknown, used, expired, replaced by a newer one, or its user is disabled. It never uses the
// link up: mail scanners and link previews open links too.
func (s *Service) CheckActivation(ctx context.Context, token string) (*Invitation, error) {
	_, inv, err := s.activationTarget(ctx, s.store, token)
	return inv, err
}

// activationTarget loads the token and its user and checks that both may be used now.
func (s *Service) activationTarget(ctx context.Context, st *store.Store, token string) (*models.OneTimeToken, *Invitation, error) {
	if token == "" {
		return nil, nil, models.ErrGone
	}
	t, err := st.ValidToken(ctx, models.TokenUserActivation, secret.Hash(token), s.now())
	if err != nil {
		return nil, nil, goneIfMissing(err)
	}
	if t.SDPUserID == nil {
		return nil, nil, models.ErrGone
	}
	inv, err := invitation(ctx, st, *t.SDPUserID)
	return t, inv, err
}

// invitation loads the user of an activation link, who must be enabled, and their account.
func invitation(ctx context.Context, st *store.Store, userID int64) (*Invitation, error) {
	u, err := st.PortalUser(ctx, userID)
	if err != nil {
		return nil, goneIfMissing(err)
	}
	if u.Status != models.UserEnabled {
		return nil, models.ErrGone
	}
	account, err := st.Account(ctx, u.AccountID)
	if err != nil {
		return nil, err
	}
	return &Invitation{User: u, Account: account}, nil
}

// ActivateInput is the activation form: the new password, typed twice.
type ActivateInput struct {
	Password, Confirm string
}

// Validate returns the field errors of the input for the invited user.
func (in ActivateInput) Validate(inv *Invitation) error {
	v := &models.ValidationError{}
	if m := password.Validate(in.Password, inv.User.Email, inv.User.FullName(), inv.Account.Name); m != "" {
		v.Add("password", m)
	}
	if in.Password != in.Confirm {
		v.Add("password_confirm", "The two passwords are not the same.")
	}
	return v.OrNil()
}

// Activate uses an activation link: it sets the user's password, marks the link used (only one
// of two concurrent uses wins), retires the user's other activation links, makes the user
// active and signs them in. A user with MFA already configured (a password reset keeps it) is
// not signed in: the link proves the mailbox, not the authenticator, so they sign in with both;
// the returned token is then "".
func (s *Service) Activate(ctx context.Context, token string, in ActivateInput, ip, userAgent string) (*Current, string, error) {
	// A token of the client's budget is taken before the link is checked and given back unless
	// the link does not work: only guesses spend it, however many arrive at once.
	bucket := ratelimit.ClientKey(ip)
	if ok, wait := s.activationIP.Take(bucket); !ok {
		return nil, "", &models.RateLimitError{RetryAfter: wait}
	}
	t, target, err := s.activationTarget(ctx, s.store, token)
	if err != nil {
		if !errors.Is(err, models.ErrGone) {
			s.activationIP.Give(bucket)
		}
		return nil, "", err
	}
	s.activationIP.Give(bucket)
	if err := in.Validate(target); err != nil {
		return nil, "", err
	}
	hash, err := s.hasher.Hash(in.Password)
	if err != nil {
		return nil, "", err
	}
	var inv *Invitation
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		now := s.now()
		// The conditional use comes first: it is what makes the link single-use (of concurrent
		// requests one wins), and a transaction that writes before it reads takes SQLite's
		// write lock in turn instead of failing to upgrade a read snapshot (SQLITE_BUSY).
		if err := tx.UseToken(ctx, t.ID, now); err != nil {
			return goneIfMissing(err)
		}
		var err error
		if inv, err = invitation(ctx, tx, *t.SDPUserID); err != nil { // disabled meanwhile?
			return err
		}
		u := inv.User
		if err := tx.RetireUserTokens(ctx, models.TokenUserActivation, []int64{u.ID}, now); err != nil {
			return err
		}
		if err := tx.ActivateUser(ctx, u.AccountID, u.ID, hash); err != nil {
			return err
		}
		// Whatever sessions survived (there should be none) belonged to the old password.
		if err := s.sessions.EndOthers(ctx, tx, u.ID, ""); err != nil {
			return err
		}
		u.PasswordHash, u.Activation = hash, models.ActivationActive
		return tx.CreateEvent(ctx, models.UserEvent(u, models.EventUser, models.SubUserActivated, models.UserActor(u, ip), nil))
	})
	if err != nil {
		return nil, "", err
	}
	if inv.User.MFAConfigured {
		return nil, "", nil
	}
	return s.startSession(ctx, inv.User, inv.Account, ip, userAgent, "activation link")
}
