// Package store is Onramp's persistence: one Store over GORM for SQLite and PostgreSQL. It hides
// GORM from the rest of the program: every method takes a context, every query of tenant data is
// scoped by account id, and GORM's errors become the models package's errors here.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5/pgxpool"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"onramp/migrations"
	"onramp/models"
)

// Store is the database. A Store from Tx runs every call inside that transaction.
type Store struct {
	db      *gorm.DB
	dialect migrations.Dialect
	caches  *caches
	// consoleSessionSQL is built once, from the models (consoleSessionSQL).
	consoleSessionSQL string
	// afterCommit, inside a transaction, collects what to run once it commits.
	afterCommit *[]func()
	// trace is Trace's function, or nil.
	trace *func(sql string, args []any)
	// onEvents is called after events are committed (OnEventsCommitted); wroteEvents is the
	// flag of the transaction this Store runs in, nil outside Tx.
	onEvents    func()
	wroteEvents *bool
	// onClose runs at Close, before the database closes (OnClose).
	onClose []func()
	// redeemer batches concurrent redemptions; nil inside Tx, where Redeem runs alone.
	redeemer *redeemBatcher
	// url is the PostgreSQL database's URL (ListenPool).
	url string
}

// Options tune Open.
type Options struct {
	// SQLitePath is the database file used when the URL is empty.
	SQLitePath string
	Logger     *slog.Logger
	// MaxOpenConns caps the pool (PostgreSQL); 0 keeps the default of 20.
	MaxOpenConns int
}

// Open connects to url: empty means the embedded SQLite file, postgres:// means PostgreSQL.
func Open(ctx context.Context, url string, o Options) (*Store, error) {
	cfg := &gorm.Config{
		TranslateError: true,
		NowFunc:        func() time.Time { return time.Now().UTC() },
		Logger:         logger.Discard,
	}
	var (
		dial    gorm.Dialector
		dialect migrations.Dialect
	)
	switch {
	case url == "" || strings.HasPrefix(url, "sqlite:") || strings.HasPrefix(url, "file:"):
		path := o.SQLitePath
		if rest, ok := strings.CutPrefix(url, "sqlite:"); ok {
			path = rest
		} else if rest, ok := strings.CutPrefix(url, "file:"); ok {
			path = rest
		}
		if path == "" {
			return nil, errors.New("store: no SQLite path")
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		// WAL lets readers run beside the writer; IMMEDIATE transactions take the write lock up
		// front so two writers queue on busy_timeout instead of failing with SQLITE_BUSY mid-way.
		// No _time_format: the driver stops reading parameters after it (so _txlock would be
		// lost), and its default is the same format anyway.
		dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
			"&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		dial, dialect = sqlite.Open(dsn), migrations.SQLite
	case strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://"):
		dial, dialect = pgDialector{&postgres.Dialector{Config: &postgres.Config{DSN: url}}}, migrations.Postgres
	default:
		return nil, errors.New("store: DATABASE_URL must be empty (SQLite) or start with postgres://")
	}
	db, err := gorm.Open(dial, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	maxOpen := o.MaxOpenConns
	if maxOpen == 0 {
		maxOpen = 20
	}
	// As many idle connections as open ones: a burst of requests that uses the whole pool must
	// not close and reopen connections as they finish (each new one is a connection set-up and,
	// on PostgreSQL, every statement prepared again); the idle time below shrinks it afterwards.
	sqlDB.SetMaxOpenConns(maxOpen)
	sqlDB.SetMaxIdleConns(maxOpen)
	// Recycle connections so that a restarted or failed-over database is reconnected to on its
	// own, and close those idle for a few minutes so that a quiet server holds few.
	sqlDB.SetConnMaxLifetime(30 * time.Minute)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	sessionSQL, err := consoleSessionSQL(db)
	if err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	s := &Store{db: db, dialect: dialect, caches: newCaches(), consoleSessionSQL: sessionSQL, trace: new(func(string, []any))}
	if dialect == migrations.Postgres {
		s.url = url
	}
	// SQLite writes one transaction at a time: a second runner would only wait for the first.
	s.redeemer = &redeemBatcher{store: s, runners: 1}
	if dialect == migrations.Postgres {
		s.redeemer.runners = 2
	}
	if err := s.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return s, nil
}

// Dialect says which database this is.
func (s *Store) Dialect() migrations.Dialect { return s.dialect }

// SQLDB is the underlying pool, for migrations.
func (s *Store) SQLDB() *sql.DB {
	d, _ := s.db.DB()
	return d
}

// ListenPool opens a pool of connections to the PostgreSQL database for LISTEN, which the pool
// of SQLDB cannot serve (a listening connection is held for good, outside database/sql): one
// connection at most, made when first asked for. It closes with the store.
func (s *Store) ListenPool() (*pgxpool.Pool, error) {
	if s.url == "" {
		return nil, errors.New("store: LISTEN needs PostgreSQL")
	}
	cfg, err := pgxpool.ParseConfig(s.url)
	if err != nil {
		return nil, fmt.Errorf("store: listen: %w", err)
	}
	cfg.MinConns, cfg.MaxConns = 0, 1
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("store: listen: %w", err)
	}
	s.OnClose(pool.Close)
	return pool, nil
}

// Migrator runs this database's migrations.
func (s *Store) Migrator() (*migrations.Migrator, error) {
	return migrations.NewMigrator(s.SQLDB(), s.dialect)
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.SQLDB().PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Close closes the pool.
func (s *Store) Close() error {
	for _, f := range s.onClose {
		f()
	}
	return s.SQLDB().Close()
}

// OnClose sets f to run at Close, before the database closes: work started in the background
// (event streaming's kicks) ends there rather than on a closed database. Set it while wiring.
func (s *Store) OnClose(f func()) { s.onClose = append(s.onClose, f) }

// bulkRows is how many rows a statement works on from which planEachTime plans it each time.
const bulkRows = 100

// planEachTime runs fn, in the caller's transaction, with each of its statements planned by
// PostgreSQL for its own parameters and the tables as they are, and run without JIT
// compilation, when they work on at least bulkRows rows (SQLite plans each statement anyway).
// It is for the statements of bulk work that reads or updates tables the same work grows: the
// generic plan a connection keeps for a prepared statement, once made while a table was small
// (a new database, the first batches of a directory's first sync, the first batch after an
// ANALYZE of an emptied table), scanned the whole table for every row of each batch, a table
// that grew with each batch: a run of 100,000 new codes took minutes, a first LDAP sync three
// times the raw SQL. JIT compiled the claim of each batch of a run again, for longer than the
// statement ran without it. The settings go back after fn: planning each time the statements
// that run per row (the foreign key checks of the inserts that follow) would double their
// cost. Below bulkRows the two round trips would cost more than they save.
func (s *Store) planEachTime(ctx context.Context, rows int, fn func() error) error {
	if s.dialect != migrations.Postgres || rows < bulkRows {
		return fn()
	}
	if err := s.q(ctx).Exec(`SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL jit = off`).Error; err != nil {
		return wrap(err)
	}
	if err := fn(); err != nil {
		return err
	}
	return wrap(s.q(ctx).Exec(`SET LOCAL plan_cache_mode TO DEFAULT; SET LOCAL jit TO DEFAULT`).Error)
}

// Tx runs fn in one transaction: it commits when fn returns nil and rolls back otherwise.
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	// A nested transaction (a savepoint) hands its work, and its events, to the outermost one's
	// commit.
	var own []func()
	after := s.afterCommit
	if after == nil {
		after = &own
	}
	wrote := s.wroteEvents
	if wrote == nil {
		wrote = new(bool)
	}
	trace := *s.trace
	if s.afterCommit != nil {
		trace = nil
	}
	if trace != nil {
		trace("BEGIN", nil)
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(&Store{db: tx, dialect: s.dialect, caches: s.caches, consoleSessionSQL: s.consoleSessionSQL,
			afterCommit: after, trace: s.trace, onEvents: s.onEvents, wroteEvents: wrote})
	})
	switch {
	case trace != nil && err == nil:
		trace("COMMIT", nil)
	case trace != nil:
		trace("ROLLBACK", nil)
	}
	if err == nil {
		for _, f := range own {
			f()
		}
		if *wrote && s.wroteEvents == nil && s.onEvents != nil {
			s.onEvents()
		}
	}
	return err
}

// OnEventsCommitted sets f to be called after a transaction (or a statement outside one) that
// wrote events commits: event streaming starts delivering then instead of at its next sweep.
// f must not block. Set it while wiring, before the Store is shared.
func (s *Store) OnEventsCommitted(f func()) { s.onEvents = f }

// eventsWritten notes that events were written: f runs now outside a transaction, after the
// commit inside one.
func (s *Store) eventsWritten() {
	switch {
	case s.wroteEvents != nil:
		*s.wroteEvents = true
	case s.onEvents != nil:
		s.onEvents()
	}
}

func (s *Store) q(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// wrap turns GORM's errors into the models package's.
func wrap(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return models.ErrNotFound
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("%w: %v", models.ErrConflict, err)
	}
	return err
}

// first loads one row into dst, mapping "no row" to models.ErrNotFound.
func first[T any](db *gorm.DB) (*T, error) {
	var v T
	if err := db.Take(&v).Error; err != nil {
		return nil, wrap(err)
	}
	return &v, nil
}

// affected turns an update that matched no row into models.ErrNotFound.
func affected(res *gorm.DB) error {
	if res.Error != nil {
		return wrap(res.Error)
	}
	if res.RowsAffected == 0 {
		return models.ErrNotFound
	}
	return nil
}

// lockForUpdate is SELECT … FOR UPDATE (PostgreSQL; SQLite's IMMEDIATE transactions already
// hold the write lock).
var lockForUpdate = clause.Locking{Strength: "UPDATE"}

func nowUTC() time.Time { return time.Now().UTC() }
