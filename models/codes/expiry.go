package codes

import (
	"context"
	"slices"

	"onramp/models"
	"onramp/models/store"
)

// ExpireCodes wipes the encrypted copy of every code, of every account, whose expiry has passed,
// and writes its Registration Code / Expired event (once: a copy is wiped once); it returns how
// many it wiped. It works a batch per transaction, locking the batch's users before their codes
// (the order the Users Actions use), and wipes only copies still there: a code used or revoked
// meanwhile is counted once, by whoever changed it first. The expiry job runs it every minute; tests call it directly.
func (s *Service) ExpireCodes(ctx context.Context) (int, error) {
	total := 0
	for {
		var found, n int
		err := s.store.Tx(ctx, func(tx *store.Store) error {
			now := s.now()
			refs, err := tx.ExpiredUnwipedCodes(ctx, now, batchSize)
			if err != nil || len(refs) == 0 {
				return err
			}
			found = len(refs)
			ids := make([]int64, len(refs))
			var users []int64
			for i, r := range refs {
				ids[i] = r.ID
				users = append(users, r.SDPUserID)
			}
			slices.Sort(users)
			if err := tx.LockUsers(ctx, slices.Compact(users)); err != nil {
				return err
			}
			wiped, err := tx.WipeExpiredCodes(ctx, ids, now)
			if err != nil {
				return err
			}
			n = len(wiped)
			expired := make([]expiryNotice, len(wiped))
			for i, w := range wiped {
				expired[i] = expiryNotice{codeID: w.ID, accountID: w.AccountID, userID: w.SDPUserID, expiresAt: w.ExpiresAt}
			}
			return writeExpiryEvents(ctx, tx, models.SubCodeExpired, expired)
		})
		if err != nil {
			return total, err
		}
		total += n
		if found < batchSize {
			return total, nil
		}
	}
}
