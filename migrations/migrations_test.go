package migrations

import (
	"io/fs"
	"slices"
	"strings"
	"testing"
)

// names lists a dialect's migrations without their extension: its SQL files and its Go
// migrations.
func names(t *testing.T, d Dialect) []string {
	t.Helper()
	files, err := fs.Glob(FS(d), "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		out = append(out, strings.TrimSuffix(f, ".sql"))
	}
	if d == SQLite {
		for _, m := range sqliteGoMigrations() {
			out = append(out, strings.TrimSuffix(m.Source, ".go"))
		}
	}
	slices.Sort(out)
	return out
}

func TestDialectsHaveTheSameMigrations(t *testing.T) {
	t.Parallel()
	pg, lite := names(t, Postgres), names(t, SQLite)
	if len(pg) == 0 || !slices.Equal(pg, lite) {
		t.Fatalf("postgres %v\nsqlite   %v", pg, lite)
	}
}
