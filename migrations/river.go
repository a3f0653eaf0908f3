package migrations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// River (the durable job queue behind outgoing mail) keeps its tables in our database, next to
// ours: in the schema on PostgreSQL's search_path, or in the SQLite file. Its schema is River's
// own, versioned by River; the migrate step applies it right after goose's, so that nothing
// creates tables at run time.

// RiverDriver returns River's driver for db. Both work on *sql.Tx, the transaction type GORM
// uses underneath, so that a job is inserted in the same transaction as the change causing it.
// On PostgreSQL, listen, when set, is the pool River's notifier takes a connection from to
// LISTEN: a job inserted by any server is then picked up as soon as its transaction commits,
// rather than at the next poll. Without it (SQLite, migrations) the queues only poll.
func RiverDriver(db *sql.DB, d Dialect, listen *pgxpool.Pool) riverdriver.Driver[*sql.Tx] {
	switch {
	case d != Postgres:
		return riversqlite.New(db)
	case listen != nil:
		return riverdatabasesql.NewWithPgxListener(db, listen)
	}
	return riverdatabasesql.New(db)
}

// riverLockKey serialises River's migrations between servers starting together on one
// PostgreSQL database (goose's own lock is released before they run). Any constant works.
const riverLockKey = 0x6f6e72616d70 // "onramp"

func newRiverMigrator(db *sql.DB, d Dialect) (*rivermigrate.Migrator[*sql.Tx], error) {
	m, err := rivermigrate.New(RiverDriver(db, d, nil), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("migrations: river: %w", err)
	}
	return m, nil
}

// upRiver applies River's pending migrations and returns how many ran.
func (m *Migrator) upRiver(ctx context.Context) (n int, err error) {
	if m.dialect == Postgres {
		conn, err := m.db.Conn(ctx)
		if err != nil {
			return 0, err
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", riverLockKey); err != nil {
			return 0, fmt.Errorf("migrate river: lock: %w", err)
		}
		defer func() {
			_, uerr := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", riverLockKey)
			err = errors.Join(err, uerr)
		}()
	}
	res, err := m.river.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return 0, fmt.Errorf("migrate river: %w", err)
	}
	return len(res.Versions), nil
}

// checkRiver refuses a database whose River tables are behind this binary's River.
func (m *Migrator) checkRiver(ctx context.Context) error {
	res, err := m.river.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("job queue schema: %w: run `onramp migrate`", err)
	}
	if !res.OK {
		return fmt.Errorf("job queue schema is not up to date (%s): run `onramp migrate`", strings.Join(res.Messages, "; "))
	}
	return nil
}
