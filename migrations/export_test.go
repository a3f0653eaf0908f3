package migrations

import "context"

// UpTo applies goose's migrations up to a version, for tests that fill a database at a version
// and migrate it on.
func (m *Migrator) UpTo(ctx context.Context, version int64) error {
	_, err := m.p.UpTo(ctx, version)
	return err
}

// DownTo reverts goose's migrations down to a version.
func (m *Migrator) DownTo(ctx context.Context, version int64) error {
	_, err := m.p.DownTo(ctx, version)
	return err
}
