package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm/schema"

	"onramp/migrations"
	"onramp/models"
)

// Loader inserts large sets of new rows (the demo's million users and everything that goes with
// them) in one transaction, as fast as each database takes them: on PostgreSQL by COPY in binary
// (pgx's CopyFrom), the rows' ids drawn from their tables' sequences first so that the rows that
// name them can be made before they go; on SQLite by multi-row INSERTs (it has no COPY, and its
// inserts cost no round trip). Either way the rows' ids are filled in.
type Loader struct {
	ctx     context.Context
	pg      pgx.Tx // PostgreSQL
	tx      *Store // SQLite
	schemas *sync.Map
	namer   schema.Namer
	// pool draws the ids (PostgreSQL); shared is set when goroutines share the Loader
	// (LoadFresh): their COPYs take turns on the one transaction.
	pool   *sql.DB
	shared *sync.Mutex
}

// Load runs fn with a Loader in one transaction: it commits when fn returns nil.
func (s *Store) Load(ctx context.Context, fn func(l *Loader) error) error {
	l := &Loader{ctx: ctx, schemas: &sync.Map{}, namer: s.db.NamingStrategy, pool: s.SQLDB()}
	if s.dialect != migrations.Postgres {
		return s.Tx(ctx, func(tx *Store) error {
			l.tx = tx
			return fn(l)
		})
	}
	conn, err := s.SQLDB().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: load: a %T is not a pgx connection", dc)
		}
		return pgx.BeginFunc(ctx, c.Conn(), func(tx pgx.Tx) error {
			l.pg = tx
			return fn(l)
		})
	})
}

// ErrNotEmpty is LoadFresh's answer when the table that must be empty holds rows, or on SQLite:
// nothing was done, and the rows go in with Load instead.
var ErrNotEmpty = errors.New("store: the tables are not empty")

// LoadFresh runs fn with one Loader, which fn's goroutines may share, in one transaction, when
// tables[0] holds no row yet (a new database, for the demo's million users), on PostgreSQL: the
// indexes of tables other than their primary keys and constraints are dropped at the start and
// built again at the end, inside the transaction. Building an index over a million rows at once
// takes a fraction of the server's time that keeping it up to date row by row does (the demo's
// load went from minutes of index upkeep to seconds of sorting). The foreign keys of tables go
// and come back the same way, checked by one join each. Other sessions wait until it commits for
// the tables and for those their foreign keys name (accounts, admins: sign-in waits too); if
// anything fails, the transaction rolls back, indexes and all. building, when set, is told when
// the indexes are being built.
func (s *Store) LoadFresh(ctx context.Context, tables []string, building func(), fn func(l *Loader) error) error {
	if s.dialect != migrations.Postgres {
		return ErrNotEmpty
	}
	return s.Load(ctx, func(l *Loader) error {
		if _, err := l.pg.Exec(ctx, "LOCK TABLE "+pgx.Identifier{tables[0]}.Sanitize()+" IN EXCLUSIVE MODE"); err != nil {
			return err
		}
		var used bool
		if err := l.pg.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+pgx.Identifier{tables[0]}.Sanitize()+")").Scan(&used); err != nil {
			return err
		}
		if used {
			return ErrNotEmpty
		}
		// The foreign keys of the tables, and their indexes but for the primary keys and those of
		// unique constraints (which cannot go without their constraint), in the order they were made.
		rows, err := l.pg.Query(ctx, `SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname),
				format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
			FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY($1::regclass[])
			ORDER BY oid`, tables)
		if err != nil {
			return err
		}
		fks, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Drop, Add string }])
		if err != nil {
			return err
		}
		rows, err = l.pg.Query(ctx, `SELECT format('DROP INDEX %s', i.oid::regclass), pg_get_indexdef(i.oid) FROM pg_index x
			JOIN pg_class i ON i.oid = x.indexrelid
			WHERE x.indrelid = ANY($1::regclass[]) AND NOT x.indisprimary
				AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
			ORDER BY i.oid`, tables)
		if err != nil {
			return err
		}
		indexes, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Drop, Add string }])
		if err != nil {
			return err
		}
		for _, d := range slices.Concat(fks, indexes) {
			if _, err := l.pg.Exec(ctx, d.Drop); err != nil {
				return err
			}
		}
		l.shared = &sync.Mutex{}
		if err := fn(l); err != nil {
			return err
		}
		if building != nil {
			building()
		}
		// Sorting for the builds in memory rather than on disk: the GIN trigram ones most.
		if _, err := l.pg.Exec(ctx, "SET LOCAL maintenance_work_mem = '256MB'"); err != nil {
			return err
		}
		// The foreign keys come back checked by one join each, where a row at a time would
		// have looked its references up one by one.
		for _, d := range slices.Concat(indexes, fks) {
			if _, err := l.pg.Exec(ctx, d.Add); err != nil {
				return fmt.Errorf("store: load: %s: %w", d.Add, err)
			}
		}
		_, err = l.pg.Exec(ctx, "ANALYZE "+strings.Join(sanitized(tables), ", "))
		return err
	})
}

// sanitized quotes each name as an identifier.
func sanitized(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = pgx.Identifier{n}.Sanitize()
	}
	return out
}

// Users inserts new users (their name keys filled in as CreateUsers does).
func (l *Loader) Users(us []*models.SDPUser) error {
	for _, u := range us {
		u.NameKey = models.UserNameKey(u.FirstName, u.LastName)
	}
	return load(l, us, 500)
}

// Devices inserts new devices.
func (l *Loader) Devices(ds []*models.Device) error { return load(l, ds, 1000) }

// Codes inserts new registration codes.
func (l *Loader) Codes(cs []*models.RegistrationCode) error { return load(l, cs, 1000) }

// Events inserts new events (each with its time).
func (l *Loader) Events(es []*models.Event) error { return load(l, es, 500) }

// Mail inserts new messages into the outbox.
func (l *Loader) Mail(ms []*models.MailMessage) error { return load(l, ms, 500) }

// load inserts rows of one model; batch is the PostgreSQL size of a multi-row INSERT, which
// SQLite's insertBatch caps.
func load[T any](l *Loader, rows []*T, batch int) error {
	if len(rows) == 0 {
		return nil
	}
	if l.pg == nil {
		return wrap(l.tx.q(l.ctx).CreateInBatches(rows, l.tx.insertBatch(batch)).Error)
	}
	sch, err := schema.Parse(rows[0], l.schemas, l.namer)
	if err != nil {
		return err
	}
	id := sch.PrioritizedPrimaryField
	if id == nil {
		return errors.New("store: load: " + sch.Table + " has no primary key")
	}
	ids, err := l.nextIDs(sch.Table, id.DBName, len(rows))
	if err != nil {
		return err
	}
	var fields []*schema.Field
	var cols []string
	for _, f := range sch.Fields {
		if f.DBName != "" && f.Creatable {
			fields, cols = append(fields, f), append(cols, f.DBName)
		}
	}
	values := make([][]any, len(rows))
	for i, r := range rows {
		rv := reflect.ValueOf(r).Elem()
		if err := id.Set(l.ctx, rv, ids[i]); err != nil {
			return err
		}
		values[i] = make([]any, len(fields))
		for j, f := range fields {
			values[i][j], _ = f.ValueOf(l.ctx, rv)
		}
	}
	if l.shared != nil {
		l.shared.Lock()
		defer l.shared.Unlock()
	}
	_, err = l.pg.CopyFrom(l.ctx, pgx.Identifier{sch.Table}, cols, pgx.CopyFromRows(values))
	return wrap(err)
}

// nextIDs draws n ids from the sequence of table's column col, on another connection of the
// pool: sequences are not transactional, and a shared Loader's transaction is busy copying.
func (l *Loader) nextIDs(table, col string, n int) ([]int64, error) {
	rows, err := l.pool.QueryContext(l.ctx, `SELECT nextval(pg_get_serial_sequence($1, $2)) FROM generate_series(1, $3)`, table, col, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := make([]int64, 0, n)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ids) != n {
		return nil, fmt.Errorf("store: load: %d ids drawn for %s, want %d", len(ids), table, n)
	}
	return ids, nil
}
