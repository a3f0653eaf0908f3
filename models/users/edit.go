package users

import (
	"context"
	"errors"

	"onramp/models"
	"onramp/models/store"
)

// Edited is what saving the Edit user form did.
type Edited struct {
	User    *models.SDPUser
	Changed bool // false when the form held what was there already: nothing saved, no event
	// Reinvited: the email of a user with a pending invitation changed, so the link mailed to
	// the old address was retired and a new invitation queued to the new one.
	Reinvited bool
}

// emailTaken is the refusal of an email another user of the account has, at create and edit.
func emailTaken() error {
	return models.NewValidationError("email", "A user with this email already exists in this account.")
}

// Update saves a user's name, email and phone with the rules of Create, and writes a User /
// Updated event listing each change as "from → to". The email stays unique in the account
// (case-insensitively: emails are stored lower-cased). When the email of a user whose
// invitation is pending changes, the link mailed to the old address dies with it: that
// address may be a stranger's (a typo is why emails get edited); an enabled user gets a fresh
// invitation at the new address in the same transaction. A directory user's profile belongs to
// the directory: any change is refused.
func (s *Service) Update(ctx context.Context, actor *models.Admin, ip string, id int64, in CreateInput) (Edited, error) {
	if err := in.Validate(); err != nil {
		return Edited{}, err
	}
	who := models.AdminActor(actor, ip)
	var out Edited
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		us, err := tx.UsersByIDs(ctx, actor.AccountID, []int64{id}) // locks the row on PostgreSQL
		if err != nil {
			return err
		}
		if len(us) == 0 {
			return models.ErrNotFound
		}
		u := &us[0]
		out.User = u
		diff := profileChanges(u, in)
		if len(diff) == 0 {
			return nil
		}
		if dir := u.ManagedBy(); dir != "" {
			return models.NewValidationError("", "Managed by directory "+dir+": change it there. The name, email and phone of this user come from "+
				dir+", and its next update would undo a change made here.")
		}
		emailChanged := u.Email != in.Email
		u.FirstName, u.LastName, u.Email, u.Phone = in.FirstName, in.LastName, in.Email, in.Phone
		if err := tx.SaveUserProfile(ctx, u); errors.Is(err, models.ErrConflict) {
			return emailTaken()
		} else if err != nil {
			return err
		}
		out.Changed = true
		if err := tx.CreateEvent(ctx, models.UserEvent(u, models.EventUser, models.SubUserUpdated, who, diff)); err != nil {
			return err
		}
		if !emailChanged || u.Activation != models.ActivationInvitationSent {
			return nil
		}
		if err := tx.RetireUserTokens(ctx, models.TokenUserActivation, []int64{u.ID}, s.now()); err != nil {
			return err
		}
		if u.Status != models.UserEnabled {
			return nil
		}
		account, err := tx.Account(ctx, actor.AccountID)
		if err != nil {
			return err
		}
		out.Reinvited = true
		return s.invite(ctx, tx, account, []models.SDPUser{*u}, who, "email changed")
	})
	if err != nil {
		return Edited{}, err
	}
	return out, nil
}

// profileChanges lists each field of the Edit user form that differs as "from → to".
func profileChanges(u *models.SDPUser, in CreateInput) map[string]string {
	d := map[string]string{}
	add := func(name, from, to string) {
		if from == to {
			return
		}
		if from == "" {
			from = "(none)"
		}
		if to == "" {
			to = "(none)"
		}
		d[name] = from + " → " + to
	}
	add("first_name", u.FirstName, in.FirstName)
	add("last_name", u.LastName, in.LastName)
	add("email", u.Email, in.Email)
	add("phone", u.Phone, in.Phone)
	return d
}
