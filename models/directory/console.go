package directory

import (
	"context"
	"time"

	"onramp/models"
	"onramp/models/store"
)

// Summary is a directory as the Directory Sync tab lists it.
type Summary struct {
	Directory models.Directory
	Users     int64
	// LastActivity is the last use of any of its tokens, nil when none was used.
	LastActivity *time.Time
	Tokens       []models.DirectoryToken
}

// Live reports whether the directory has an unrevoked token.
func (s Summary) Live() bool {
	for _, t := range s.Tokens {
		if t.RevokedAt == nil {
			return true
		}
	}
	return false
}

// Directories lists the directories of an account with their users and tokens.
func (s *Service) Directories(ctx context.Context, accountID int64) ([]Summary, error) {
	ds, err := s.store.Directories(ctx, accountID)
	if err != nil {
		return nil, err
	}
	ts, err := s.store.DirectoryTokens(ctx, accountID)
	if err != nil {
		return nil, err
	}
	counts, err := s.store.DirectoryUserCounts(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := make([]Summary, len(ds))
	at := make(map[int64]int, len(ds))
	for i, d := range ds {
		out[i] = Summary{Directory: d, Users: counts[d.ID]}
		at[d.ID] = i
	}
	for _, t := range ts {
		sum := &out[at[t.DirectoryID]]
		sum.Tokens = append(sum.Tokens, t)
		if t.LastUsedAt != nil && (sum.LastActivity == nil || t.LastUsedAt.After(*sum.LastActivity)) {
			sum.LastActivity = t.LastUsedAt
		}
	}
	return out, nil
}

// Directory loads a directory of an account (models.ErrNotFound for another account's).
func (s *Service) Directory(ctx context.Context, accountID, id int64) (*models.Directory, error) {
	return s.store.DirectoryByID(ctx, accountID, id)
}

// RevokeSCIMToken revokes a token of a directory of an account: /scim/v2 answers 401 to it
// from then on. A SCIM / Token Revoked event names the directory and the token.
func (s *Service) RevokeSCIMToken(ctx context.Context, accountID, directoryID, tokenID int64, who models.Actor) error {
	return s.store.Tx(ctx, func(tx *store.Store) error {
		d, err := tx.DirectoryByID(ctx, accountID, directoryID)
		if err != nil {
			return err
		}
		t, err := tx.RevokeDirectoryToken(ctx, accountID, d.ID, tokenID, s.now())
		if err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.NewEvent(&accountID, models.EventSCIM, models.SubTokenRevoked, who, "",
			map[string]string{"directory": d.Name, "token": t.Name}))
	})
}
