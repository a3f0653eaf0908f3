package store

import (
	"encoding/json"

	"github.com/lib/pq"

	"onramp/migrations"
)

// Bulk statements bind a batch's values as one parameter per column rather than one per row and
// column: PostgreSQL reads an array (unnest, = ANY), SQLite, which has no arrays, a JSON array
// (json_each). A statement then has a handful of parameters whatever its batch size, so it is
// planned and bound once, and the driver does not spend longer binding than the database
// inserting. pq.Array encodes the array in PostgreSQL's text form, a driver.Valuer that GORM
// passes as one parameter (a plain slice it would spread into a list).

// inIDs is the predicate "col is one of ids" with ids bound as one parameter.
func (s *Store) inIDs(col string, ids []int64) (string, any) {
	if s.dialect == migrations.Postgres {
		return col + " = ANY(?::bigint[])", pq.Array(ids)
	}
	return col + " IN (SELECT value FROM json_each(?))", jsonArray(ids)
}

// jsonArray is v as a JSON text (for SQLite's json_each).
func jsonArray(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // slices of numbers and strings always encode
	}
	return string(b)
}
