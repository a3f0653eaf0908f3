// Package migrations owns the database schema: numbered goose migrations, one folder per
// dialect with the same versions, embedded in the binary (and, for SQLite, a few in Go:
// sqlite_go.go). Nothing else creates or alters tables.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Dialect is a database family with its own migration folder.
type Dialect string

const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// FS returns the migration files of a dialect.
func FS(d Dialect) fs.FS {
	sub, err := fs.Sub(files, string(d))
	if err != nil {
		panic(err) // the folders are embedded at build time
	}
	return sub
}

// Migrator runs and inspects the migrations of one database: goose's, then River's (river.go).
type Migrator struct {
	p       *goose.Provider
	river   *rivermigrate.Migrator[*sql.Tx]
	db      *sql.DB
	dialect Dialect
}

// NewMigrator prepares migrations for db. On PostgreSQL an advisory lock keeps two servers
// starting together from migrating at once.
func NewMigrator(db *sql.DB, d Dialect) (*Migrator, error) {
	var opts []goose.ProviderOption
	gd := goose.DialectSQLite3
	if d == Postgres {
		gd = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	} else {
		opts = append(opts, goose.WithGoMigrations(sqliteGoMigrations()...))
	}
	p, err := goose.NewProvider(gd, db, FS(d), opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	river, err := newRiverMigrator(db, d)
	if err != nil {
		return nil, err
	}
	return &Migrator{p: p, river: river, db: db, dialect: d}, nil
}

// Up applies every pending migration and returns how many ran.
func (m *Migrator) Up(ctx context.Context) (int, error) {
	res, err := m.p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate up: %w", err)
	}
	n, err := m.upRiver(ctx)
	return len(res) + n, err
}

// Status lists every known migration and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]*goose.MigrationStatus, error) {
	return m.p.Status(ctx)
}

// Versions returns the database's schema version and the newest this binary knows.
func (m *Migrator) Versions(ctx context.Context) (current, latest int64, err error) {
	return m.p.GetVersions(ctx)
}

// Check refuses a schema that is behind this binary (run migrate) or ahead of it (a newer
// binary migrated it: running an older one could corrupt data).
func (m *Migrator) Check(ctx context.Context) error {
	current, latest, err := m.Versions(ctx)
	if err != nil {
		return err
	}
	switch {
	case current > latest:
		return fmt.Errorf("database schema is at version %d but this binary knows only up to %d: run a newer onramp", current, latest)
	case current < latest:
		return fmt.Errorf("database schema is at version %d, this binary needs %d: run `onramp migrate`", current, latest)
	}
	return m.checkRiver(ctx)
}
