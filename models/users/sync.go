package users

import (
	"context"

	"onramp/models"
	"onramp/models/codes"
	"onramp/models/store"
)

// DirectoryUpdate is what a directory sync changes of one of its users: the profile the
// directory has now and, when a new directory identity takes the user over (an account
// deleted and created again with the same email), the identity it replaces.
type DirectoryUpdate struct {
	ID            int64
	Profile       DirectoryProfile
	TakenOverFrom string
}

// DirectoryBatch is one batch of a directory sync's changes.
type DirectoryBatch struct {
	Create []DirectoryProfile
	Update []DirectoryUpdate
	Delete []int64
}

// ApplyDirectoryBatch makes a batch of a directory sync's changes in tx, the caller's
// transaction, with the effects and events of the SCIM paths (CreateFromDirectory,
// UpdateFromDirectory, DeleteFromDirectory: invitations under option 2, first codes under
// Registration Code, sessions and devices ended and the notice under option 3 on disable),
// but in a few statements per batch rather than a transaction per user. Profiles must be
// valid (DirectoryProfile.Validate); users that are no longer the directory's are left alone.
func (s *Service) ApplyDirectoryBatch(ctx context.Context, tx *store.Store, d *models.Directory, b DirectoryBatch) error {
	account, err := tx.Account(ctx, d.AccountID)
	if err != nil {
		return err
	}
	who := d.Actor("")
	if err := s.createFromDirectory(ctx, tx, account, d, b.Create, who); err != nil {
		return err
	}
	if err := s.updateFromDirectory(ctx, tx, account, d, b.Update, who); err != nil {
		return err
	}
	gone, err := directoryUsers(ctx, tx, d, b.Delete)
	if err != nil {
		return err
	}
	return s.delete(ctx, tx, account, gone, who)
}

func (s *Service) createFromDirectory(ctx context.Context, tx *store.Store, account *models.Account, d *models.Directory, ps []DirectoryProfile, who models.Actor) error {
	if len(ps) == 0 {
		return nil
	}
	dirID := d.ID
	rows := make([]*models.SDPUser, len(ps))
	for i, p := range ps {
		rows[i] = &models.SDPUser{AccountID: d.AccountID, FirstName: p.FirstName, LastName: p.LastName, Email: p.Email, Phone: p.Phone,
			Origin: d.Origin(), DirectoryID: &dirID, ExternalID: p.ExternalID, UserName: p.UserName, Status: models.UserEnabled,
			Activation: models.ActivationNew}
	}
	if err := tx.CreateUsers(ctx, rows); err != nil {
		return err
	}
	var active, inactive []models.SDPUser
	evs := make([]*models.Event, len(rows))
	for i, u := range rows {
		evs[i] = models.UserEvent(u, models.EventUser, models.SubUserCreated, who, map[string]string{"origin": u.Origin})
		if ps[i].Active {
			active = append(active, *u)
		} else {
			inactive = append(inactive, *u)
		}
	}
	if err := tx.CreateEvents(ctx, evs); err != nil {
		return err
	}
	if err := s.disable(ctx, tx, account, inactive, who); err != nil {
		return err
	}
	return s.welcomeAll(ctx, tx, account, active, codes.Issue{Who: who}, account.InvitesNewDirectoryUsers(), "new directory user")
}

func (s *Service) updateFromDirectory(ctx context.Context, tx *store.Store, account *models.Account, d *models.Directory, ups []DirectoryUpdate, who models.Actor) error {
	if len(ups) == 0 {
		return nil
	}
	ids := make([]int64, len(ups))
	for i, up := range ups {
		ids[i] = up.ID
	}
	current, err := directoryUsers(ctx, tx, d, ids)
	if err != nil {
		return err
	}
	byID := make(map[int64]*models.SDPUser, len(current))
	for i := range current {
		byID[current[i].ID] = &current[i]
	}
	var enable, disable []models.SDPUser
	var evs []*models.Event
	for _, up := range ups {
		u, ok := byID[up.ID]
		if !ok {
			continue
		}
		p := up.Profile
		diff := profileChanges(u, p.CreateInput)
		if len(diff) > 0 {
			u.FirstName, u.LastName, u.Email, u.Phone = p.FirstName, p.LastName, p.Email, p.Phone
			if err := tx.SaveUserProfile(ctx, u); err != nil {
				return err
			}
		}
		if !sameID(u.ExternalID, p.ExternalID) || !sameID(u.UserName, p.UserName) {
			u.ExternalID, u.UserName = p.ExternalID, p.UserName
			if err := tx.SetUserDirectoryIDs(ctx, u.AccountID, u.ID, u.ExternalID, u.UserName); err != nil {
				return err
			}
		}
		if up.TakenOverFrom != "" {
			diff["identity"] = "taken over from " + up.TakenOverFrom
		}
		if len(diff) > 0 {
			evs = append(evs, models.UserEvent(u, models.EventUser, models.SubUserUpdated, who, diff))
		}
		switch {
		case p.Active && u.Status != models.UserEnabled:
			enable = append(enable, *u)
		case !p.Active && u.Status == models.UserEnabled:
			disable = append(disable, *u)
		}
	}
	if err := tx.CreateEvents(ctx, evs); err != nil {
		return err
	}
	if err := s.setStatus(ctx, tx, account, enable, models.UserEnabled, models.SubUserEnabled, who); err != nil {
		return err
	}
	return s.disable(ctx, tx, account, disable, who)
}

// directoryUsers loads (and locks, on PostgreSQL) the users among ids that are d's.
func directoryUsers(ctx context.Context, tx *store.Store, d *models.Directory, ids []int64) ([]models.SDPUser, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	us, err := tx.UsersByIDs(ctx, d.AccountID, ids)
	if err != nil {
		return nil, err
	}
	return filter(us, func(u *models.SDPUser) bool { return u.DirectoryID != nil && *u.DirectoryID == d.ID }), nil
}
