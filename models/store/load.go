package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
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
}

// Load runs fn with a Loader in one transaction: it commits when fn returns nil.
func (s *Store) Load(ctx context.Context, fn func(l *Loader) error) error {
	l := &Loader{ctx: ctx, schemas: &sync.Map{}, namer: s.db.NamingStrategy}
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
	_, err = l.pg.CopyFrom(l.ctx, pgx.Identifier{sch.Table}, cols, pgx.CopyFromRows(values))
	return wrap(err)
}

// nextIDs draws n ids from the sequence of table's column col.
func (l *Loader) nextIDs(table, col string, n int) ([]int64, error) {
	rows, err := l.pg.Query(l.ctx, `SELECT nextval(pg_get_serial_sequence($1, $2)) FROM generate_series(1, $3)`, table, col, n)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err == nil && len(ids) != n {
		err = fmt.Errorf("store: load: %d ids drawn for %s, want %d", len(ids), table, n)
	}
	return ids, err
}
