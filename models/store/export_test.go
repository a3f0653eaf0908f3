package store

import (
	"time"

	"gorm.io/gorm"
)

// GormForTest exposes the handle to the schema tests of this package.
func GormForTest(s *Store) *gorm.DB { return s.db }

// SetCacheClockForTest makes the store's caches read the time from now.
func SetCacheClockForTest(s *Store, now func() time.Time) {
	s.caches.origins.now = now
	s.caches.openRuns.now = now
}
