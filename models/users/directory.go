package users

import (
	"context"

	"onramp/models"
	"onramp/models/codes"
	"onramp/models/store"
)

// DirectoryProfile is what a directory (SCIM, later LDAP) owns of a user.
type DirectoryProfile struct {
	CreateInput
	ExternalID *string
	UserName   *string // the directory's login name for the user; nil: the email
	Active     bool
}

// profileOf is the directory's view of u.
func profileOf(u *models.SDPUser) DirectoryProfile {
	return DirectoryProfile{CreateInput: CreateInput{FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, Phone: u.Phone},
		ExternalID: u.ExternalID, UserName: u.UserName, Active: u.Status == models.UserEnabled}
}

// CreateFromDirectory adds a user a directory pushed, with the origin "directory:<name>".
// The account's settings apply as for console users, in the same transaction: Invitation Email
// with option 2 on queues the invitation; Registration Code issues the first code (users with
// MFA are skipped, as for every code). A taken email is models.ErrConflict.
func (s *Service) CreateFromDirectory(ctx context.Context, d *models.Directory, ip string, p DirectoryProfile) (*models.SDPUser, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	dirID := d.ID
	u := &models.SDPUser{AccountID: d.AccountID, FirstName: p.FirstName, LastName: p.LastName, Email: p.Email, Phone: p.Phone,
		Origin: d.Origin(), DirectoryID: &dirID, ExternalID: p.ExternalID, UserName: p.UserName, Status: models.UserEnabled, Activation: models.ActivationNew}
	who := d.Actor(ip)
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		account, err := tx.Account(ctx, d.AccountID)
		if err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.CreateEvent(ctx, models.UserEvent(u, models.EventUser, models.SubUserCreated, who,
			map[string]string{"origin": u.Origin})); err != nil {
			return err
		}
		if !p.Active {
			return s.disable(ctx, tx, account, []models.SDPUser{*u}, who)
		}
		return s.welcome(ctx, tx, account, u, codes.Issue{Who: who}, account.InvitesNewDirectoryUsers(), "new directory user")
	})
	if err != nil {
		return nil, err
	}
	if !p.Active {
		u.Status = models.UserDisabled
	}
	return u, nil
}

// UpdateFromDirectory applies change to the directory's profile of one of its users, in one
// transaction with the row locked: the profile is saved with a User / Updated event listing
// the changes, and a change of Active goes through Disable (sessions and devices signed out,
// the notice under option 3) or Enable, as in the console.
func (s *Service) UpdateFromDirectory(ctx context.Context, d *models.Directory, ip string, id int64, change func(*DirectoryProfile) error) (*models.SDPUser, error) {
	who := d.Actor(ip)
	var out *models.SDPUser
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		u, err := tx.DirectoryUser(ctx, d.AccountID, d.ID, id)
		if err != nil {
			return err
		}
		p := profileOf(u)
		if err := change(&p); err != nil {
			return err
		}
		if err := p.Validate(); err != nil {
			return err
		}
		diff := profileChanges(u, p.CreateInput)
		u.FirstName, u.LastName, u.Email, u.Phone = p.FirstName, p.LastName, p.Email, p.Phone
		if len(diff) > 0 {
			if err := tx.SaveUserProfile(ctx, u); err != nil {
				return err
			}
			if err := tx.CreateEvent(ctx, models.UserEvent(u, models.EventUser, models.SubUserUpdated, who, diff)); err != nil {
				return err
			}
		}
		if !sameID(u.ExternalID, p.ExternalID) || !sameID(u.UserName, p.UserName) {
			u.ExternalID, u.UserName = p.ExternalID, p.UserName
			if err := tx.SetUserDirectoryIDs(ctx, u.AccountID, u.ID, u.ExternalID, u.UserName); err != nil {
				return err
			}
		}
		out = u
		if p.Active == (u.Status == models.UserEnabled) {
			return nil
		}
		account, err := tx.Account(ctx, d.AccountID)
		if err != nil {
			return err
		}
		if p.Active {
			u.Status = models.UserEnabled
			return s.setStatus(ctx, tx, account, []models.SDPUser{*u}, models.UserEnabled, models.SubUserEnabled, who)
		}
		u.Status = models.UserDisabled
		return s.disable(ctx, tx, account, []models.SDPUser{*u}, who)
	})
	return out, err
}

// DeleteFromDirectory deletes one of the directory's users; the events about them stay.
func (s *Service) DeleteFromDirectory(ctx context.Context, d *models.Directory, ip string, id int64) error {
	return s.store.Tx(ctx, func(tx *store.Store) error {
		u, err := tx.DirectoryUser(ctx, d.AccountID, d.ID, id)
		if err != nil {
			return err
		}
		account, err := tx.Account(ctx, d.AccountID)
		if err != nil {
			return err
		}
		return s.delete(ctx, tx, account, []models.SDPUser{*u}, d.Actor(ip))
	})
}

// DirectoryUser returns one of the directory's users.
func (s *Service) DirectoryUser(ctx context.Context, d *models.Directory, id int64) (*models.SDPUser, error) {
	u, err := s.store.User(ctx, d.AccountID, id)
	if err != nil {
		return nil, err
	}
	if u.DirectoryID == nil || *u.DirectoryID != d.ID {
		return nil, models.ErrNotFound
	}
	return u, nil
}

// DirectoryUsers returns the directory's users matching f, from offset, at most limit, with
// how many match in all.
func (s *Service) DirectoryUsers(ctx context.Context, d *models.Directory, f store.DirectoryUserFilter, offset, limit int) ([]models.SDPUser, int64, error) {
	if f.Email != nil {
		e := models.NormalizeEmail(*f.Email)
		f.Email = &e
	}
	return s.store.DirectoryUsers(ctx, d.AccountID, d.ID, f, offset, limit)
}

func sameID(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
