// Package events reads an account's audit trail: the Overview's recent activity and Event
// Discovery (filters, counts per kind, keyset pages, CSV export, one event). Events are written
// by the services that cause them, inside their own transactions.
package events

import (
	"context"
	"time"

	"onramp/models"
	"onramp/models/store"
)

// Service reads events.
type Service struct {
	store *store.Store
	now   func() time.Time
}

// New builds the service.
func New(s *store.Store) *Service {
	return &Service{store: s, now: func() time.Time { return time.Now().UTC() }}
}

// WithClock replaces the clock that time range presets count back from (tests, benchmarks).
func (s *Service) WithClock(now func() time.Time) *Service { s.now = now; return s }

// Overview is the summary on the console's first page.
type Overview struct {
	ActiveAdmins int64
	Recent       []models.Event
	Counts       Counts
}

// Counts are the account's figures, and whether the first steps were ever taken. Each count
// stops past CountCap, as Event Discovery's do: a count above it means "10,000 or more"
// (reading a million users on every visit of the first page would cost more than the page).
type Counts struct {
	Enabled, Disabled           int64
	New, InvitationSent, Active int64
	ActiveCodes, ActiveDevices  int64
	MailHeld, MailFailed        int64
	Admins                      int64
	// MethodChosen: the provisioning settings were saved; Reached: a code was generated or an
	// invitation sent; Connected: a device registered.
	MethodChosen, Reached, Connected bool
}

// Overview returns the account's recent events, how many admins are active and the account's
// counts.
func (s *Service) Overview(ctx context.Context, actor *models.Admin, limit int) (Overview, error) {
	n, err := s.store.CountActiveAdmins(ctx, actor.AccountID)
	if err != nil {
		return Overview{}, err
	}
	counts, err := s.store.AccountCounts(ctx, actor.AccountID, s.now(), CountCap+1)
	if err != nil {
		return Overview{}, err
	}
	recent, err := s.store.RecentEvents(ctx, actor.AccountID, limit)
	return Overview{ActiveAdmins: n, Recent: recent, Counts: Counts(counts)}, err
}
