package store

import (
	"errors"
	"slices"

	"gorm.io/gorm"
)

// Trace calls fn after every statement the store runs (through GORM: all of them), with its SQL
// as sent and its arguments, and with "BEGIN" and "COMMIT" or "ROLLBACK" (no arguments) around
// the statements of a transaction. The benchmarks use it to replay, raw, the very statements a
// page ran; fn runs on the request's goroutine and must be quick. There is no way to remove it:
// a traced Store is a benchmark's own.
func (s *Store) Trace(fn func(sql string, args []any)) error {
	*s.trace = fn
	after := func(db *gorm.DB) {
		// A query that found no row was sent and answered all the same; a dry run (how GORM
		// builds a subquery) was not.
		if (db.Error == nil || errors.Is(db.Error, gorm.ErrRecordNotFound)) && !db.DryRun && db.Statement.SQL.Len() > 0 {
			fn(db.Statement.SQL.String(), slices.Clone(db.Statement.Vars))
		}
	}
	cb := s.db.Callback()
	for _, err := range []error{
		cb.Create().After("gorm:create").Register("onramp:trace", after),
		cb.Query().After("gorm:query").Register("onramp:trace", after),
		cb.Update().After("gorm:update").Register("onramp:trace", after),
		cb.Delete().After("gorm:delete").Register("onramp:trace", after),
		cb.Row().After("gorm:row").Register("onramp:trace", after),
		cb.Raw().After("gorm:raw").Register("onramp:trace", after),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}
