package codes

import (
	"context"
	"strconv"
	"time"

	"onramp/models"
	"onramp/models/store"
)

// ExpiringNotice is how long before its expiry a code still unused gets its Registration Code /
// Expiring event.
const ExpiringNotice = 24 * time.Hour

// expiryActor is who writes the expiry events: the expiry job.
var expiryActor = models.Actor{Type: models.ActorSystem, Label: "code expiry"}

// WarnExpiringCodes writes a Registration Code / Expiring event, once, for every code of every
// account that is still unused ExpiringNotice before its expiry; it returns how many. A code
// generated to last less than that gets none (it would be warned about at birth). It works a
// batch per transaction, marking the codes it looked at so that no code is warned about twice,
// even by two servers. The expiry job runs it every minute; tests call it directly.
func (s *Service) WarnExpiringCodes(ctx context.Context) (int, error) {
	total := 0
	for {
		var found, n int
		err := s.store.Tx(ctx, func(tx *store.Store) error {
			cs, err := tx.MarkExpiringCodes(ctx, s.now(), ExpiringNotice, batchSize)
			if err != nil {
				return err
			}
			found = len(cs)
			var warn []expiryNotice
			for _, c := range cs {
				if c.Warn {
					warn = append(warn, expiryNotice{codeID: c.ID, accountID: c.AccountID, userID: c.SDPUserID, expiresAt: c.ExpiresAt})
				}
			}
			n = len(warn)
			return writeExpiryEvents(ctx, tx, models.SubCodeExpiring, warn)
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

// expiryNotice is a code an expiry event is about.
type expiryNotice struct {
	codeID, accountID, userID int64
	expiresAt                 time.Time
}

// writeExpiryEvents writes one Registration Code event of sub-type sub per code, naming its user.
func writeExpiryEvents(ctx context.Context, tx *store.Store, sub string, cs []expiryNotice) error {
	byAccount := map[int64][]int64{}
	for _, c := range cs {
		byAccount[c.accountID] = append(byAccount[c.accountID], c.userID)
	}
	emails := map[int64]string{}
	for account, users := range byAccount {
		es, err := tx.UserEmails(ctx, account, users)
		if err != nil {
			return err
		}
		for id, e := range es {
			emails[id] = e
		}
	}
	evs := make([]*models.Event, len(cs))
	for i, c := range cs {
		e := models.NewEvent(&c.accountID, models.EventCode, sub, expiryActor, emails[c.userID],
			map[string]string{"code_id": strconv.FormatInt(c.codeID, 10), "expires_at": c.expiresAt.UTC().Format(time.RFC3339)})
		uid := c.userID
		e.SDPUserID = &uid
		evs[i] = e
	}
	return tx.CreateEvents(ctx, evs)
}
