package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// EventColumnsForTest are the columns the events search reads by hand.
const EventColumnsForTest = eventColumns

// GormForTest exposes the handle to the schema tests of this package.
func GormForTest(s *Store) *gorm.DB { return s.db }

// SetCacheClockForTest makes the store's caches read the time from now.
func SetCacheClockForTest(s *Store, now func() time.Time) {
	s.caches.origins.now = now
	s.caches.openRuns.now = now
}

// RedeemTogetherForTest writes a batch of redemptions.
func RedeemTogetherForTest(s *Store, ctx context.Context, rs []Redemption) ([]*Redeemed, error) {
	return s.redeemTogether(ctx, rs)
}

// RedemptionQueueForTest says how many redemptions wait for a batch, how many batches were taken
// so far and how many can be written at once.
func RedemptionQueueForTest(s *Store) (waiting int, batches int64, runners int) {
	s.redeemer.mu.Lock()
	defer s.redeemer.mu.Unlock()
	return len(s.redeemer.queue), s.redeemer.batches, s.redeemer.runners
}
