// Package events reads an account's audit trail. (Events are written by the services that cause
// them, inside their own transactions.)
package events

import (
	"context"

	"onramp/models"
	"onramp/models/store"
)

// Service reads events.
type Service struct{ store *store.Store }

// New builds the service.
func New(s *store.Store) *Service { return &Service{store: s} }

// Overview is the summary on the console's first page.
type Overview struct {
	ActiveAdmins int64
	Recent       []models.Event
}

// Overview returns the account's recent events and how many admins are active.
func (s *Service) Overview(ctx context.Context, actor *models.Admin, limit int) (Overview, error) {
	n, err := s.store.CountActiveAdmins(ctx, actor.AccountID)
	if err != nil {
		return Overview{}, err
	}
	recent, err := s.store.RecentEvents(ctx, actor.AccountID, limit)
	return Overview{ActiveAdmins: n, Recent: recent}, err
}
