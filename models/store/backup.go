package store

import (
	"context"
	"errors"
	"fmt"

	"onramp/migrations"
)

// ErrNotSQLite: only the embedded SQLite database is copied by the store; PostgreSQL has its
// own tools (pg_dump).
var ErrNotSQLite = errors.New("store: not an SQLite database")

// CopyTo writes a consistent copy of the SQLite database to path, a file that must not exist
// yet, while others go on reading and writing: VACUUM INTO reads one snapshot (in WAL mode
// writers do not wait for it) and writes a compact database file.
func (s *Store) CopyTo(ctx context.Context, path string) error {
	if s.dialect != migrations.SQLite {
		return ErrNotSQLite
	}
	if err := s.q(ctx).Exec("VACUUM INTO ?", path).Error; err != nil {
		return fmt.Errorf("store: copy to %s: %w", path, err)
	}
	return nil
}
