package store

import "gorm.io/gorm"

// GormForTest exposes the handle to the schema tests of this package.
func GormForTest(s *Store) *gorm.DB { return s.db }
