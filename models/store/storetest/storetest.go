// Package storetest gives each test a fresh, migrated database: a SQLite file in the test's
// temporary folder or, when TEST_DATABASE_URL is set, a database of its own on that PostgreSQL
// server (postgres.go), dropped when the test ends. The same tests thus run on both databases.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver used to create schemas

	"onramp/models/store"
)

// URL is the PostgreSQL server under test, or "" for SQLite.
func URL() string { return os.Getenv("TEST_DATABASE_URL") }

// Open returns a migrated, empty store for t.
func Open(t testing.TB) *store.Store {
	t.Helper()
	s, _ := openCopy(t, 1)
	return s
}

// OpenReplicas returns two stores, each with connections of its own, on one migrated, empty
// database: what two instances of a deployment share.
func OpenReplicas(t testing.TB) (*store.Store, *store.Store) {
	t.Helper()
	return openCopy(t, 2)
}

// openCopy copies the template for t and opens it n times (1 or 2).
func openCopy(t testing.TB, n int) (first, second *store.Store) {
	t.Helper()
	dbURL, path := "", ""
	if URL() == "" {
		path = sqliteCopy(t)
	} else {
		dbURL = postgresCopy(t)
	}
	var opened []*store.Store
	for range n {
		s, err := store.Open(context.Background(), dbURL, store.Options{SQLitePath: path, MaxOpenConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		opened = append(opened, s)
	}
	if n == 1 {
		return opened[0], nil
	}
	return opened[0], opened[1]
}

func migrate(s *store.Store) error {
	m, err := s.Migrator()
	if err != nil {
		return err
	}
	_, err = m.Up(context.Background())
	return err
}

// template is a migrated SQLite database made once per test binary and kept in memory: copying
// it is much faster than migrating every test's database (River's migrations alone take a third
// of a second under -race), and no file outlives the binary.
var template struct {
	once sync.Once
	raw  []byte
	err  error
}

// sqliteCopy writes the template to t's database file and returns its path.
func sqliteCopy(t testing.TB) string {
	t.Helper()
	template.once.Do(func() { template.raw, template.err = migratedSQLite() })
	if template.err != nil {
		t.Fatal(template.err)
	}
	path := filepath.Join(t.TempDir(), "onramp.db")
	if err := os.WriteFile(path, template.raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// migratedSQLite migrates a SQLite file in a temporary folder, which it removes, and returns
// the file's bytes.
func migratedSQLite() ([]byte, error) {
	dir, err := os.MkdirTemp("", "onramp-storetest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "template.db")
	s, err := store.Open(context.Background(), "", store.Options{SQLitePath: path})
	if err != nil {
		return nil, err
	}
	if err := errors.Join(migrate(s), checkpoint(s), s.Close()); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

// checkpoint moves the write-ahead log into the database file, so that the file alone is a
// complete copy.
func checkpoint(s *store.Store) error {
	_, err := s.SQLDB().Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

// OpenUnmigrated returns an empty store with no tables, for migration tests.
func OpenUnmigrated(t testing.TB) *store.Store {
	t.Helper()
	ctx := context.Background()
	dbURL, err := Database(t)
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(ctx, dbURL, store.Options{SQLitePath: filepath.Join(t.TempDir(), "onramp.db"), MaxOpenConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Database returns a DATABASE_URL for a fresh, empty database of t's own: "" (SQLite in the
// caller's path) or a PostgreSQL URL whose search_path is a new schema.
func Database(t testing.TB) (string, error) {
	base := URL()
	if base == "" {
		return "", nil
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		return "", err
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
