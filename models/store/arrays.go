package store

import (
	"encoding/json"

	"github.com/jackc/pgx/v5/pgtype"

	"onramp/migrations"
)

// Bulk statements bind a batch's values as one parameter per column rather than one per row and
// column: PostgreSQL reads an array (unnest, = ANY), SQLite, which has no arrays, a JSON array
// (json_each). A statement then has a handful of parameters whatever its batch size, so it is
// planned and bound once, and the driver does not spend longer binding than the database
// inserting.

// pgArray binds v as one PostgreSQL array parameter. GORM spreads a plain slice into a list, and
// passes a struct as it is: pgx then encodes the array in its binary form. lib/pq's Array, a
// driver.Valuer that builds the text form (quoting every element), took 40 ms of CPU for the
// three arrays of a batch of 5,000 codes, a tenth of a generation run's time.
func pgArray[T any](v []T) pgtype.Array[T] {
	return pgtype.Array[T]{Elements: v, Dims: []pgtype.ArrayDimension{{Length: int32(len(v)), LowerBound: 1}}, Valid: true}
}

// inIDs is the predicate "col is one of ids" with ids bound as one parameter.
func (s *Store) inIDs(col string, ids []int64) (string, any) {
	if s.dialect == migrations.Postgres {
		return col + " = ANY(?::bigint[])", pgArray(ids)
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
