package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"onramp/migrations"
	"onramp/models/store"
)

// On PostgreSQL each test gets a database of its own, copied from a migrated template: CREATE
// DATABASE … TEMPLATE takes about 0.1 s where creating a schema and running every migration
// into it took 0.35 s under -race. The template is made once per schema version (its name holds
// a digest of the migrations and of River's version) and kept for the next run; the databases
// of tests are dropped when they end. Every name starts with the name of TEST_DATABASE_URL's
// database, so that CI drops them all with its own.

// pg is what the test binary shares: a connection to the server for creating and dropping
// databases, and the template's name.
var pg struct {
	once     sync.Once
	admin    *sql.DB
	template string
	err      error
}

// postgresCopy makes t's database from the template and returns its URL.
func postgresCopy(t testing.TB) string {
	t.Helper()
	pg.once.Do(preparePostgres)
	if pg.err != nil {
		t.Fatal(pg.err)
	}
	base, err := url.Parse(URL())
	if err != nil {
		t.Fatal(err)
	}
	name := dbName(base) + "_t_" + randomHex(6)
	if _, err := pg.admin.Exec("CREATE DATABASE " + quote(name) + " TEMPLATE " + quote(pg.template)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = pg.admin.Exec("DROP DATABASE IF EXISTS " + quote(name) + " WITH (FORCE)") })
	return withDB(base, name)
}

// preparePostgres connects to the server and makes sure the template of this schema version
// exists. Test binaries of several packages run at once: an advisory lock lets one of them
// build it, under a temporary name renamed when it is complete, while the others wait.
func preparePostgres() {
	base, err := url.Parse(URL())
	if err != nil {
		pg.err = err
		return
	}
	if pg.admin, err = sql.Open("pgx", base.String()); err != nil {
		pg.err = err
		return
	}
	pg.admin.SetMaxOpenConns(4)
	version, err := schemaVersion()
	if err != nil {
		pg.err = err
		return
	}
	pg.template = dbName(base) + "_tpl_" + version
	pg.err = buildTemplate(base, pg.template)
}

func buildTemplate(base *url.URL, name string) error {
	ctx := context.Background()
	conn, err := pg.admin.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	const lockKey = 0x6f6e72616d7074 // "onrampt"
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return err
	}
	defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockKey) }()
	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil || exists {
		return err
	}
	building := name + "_" + randomHex(3)
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+quote(building)); err != nil {
		return err
	}
	s, err := store.Open(ctx, withDB(base, building), store.Options{})
	if err != nil {
		return err
	}
	if err := errors.Join(migrate(s), s.Close()); err != nil {
		_, _ = conn.ExecContext(ctx, "DROP DATABASE "+quote(building)+" WITH (FORCE)")
		return fmt.Errorf("storetest: migrate the template: %w", err)
	}
	// A closed pool's server processes may still be on their way out: a database with
	// sessions cannot be renamed (nor copied).
	if _, err := conn.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", building); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, "ALTER DATABASE "+quote(building)+" RENAME TO "+quote(name))
	return err
}

// schemaVersion is a digest of what makes the schema: the PostgreSQL migrations and the
// version of River, whose own migrations run after them. PostgreSQL's migrations are all files
// (the Go ones, migrations/sqlite_go.go, are SQLite's, whose template every test binary
// migrates afresh).
func schemaVersion() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS(migrations.Postgres), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS(migrations.Postgres), path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path == "github.com/riverqueue/river" { // rivermigrate, whose migrations make River's tables
				h.Write([]byte(m.Version))
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:12], err
}

// dbName is the database a URL names, the prefix of every database the tests make.
func dbName(u *url.URL) string { return strings.TrimPrefix(u.Path, "/") }

// withDB is u naming another database.
func withDB(u *url.URL, name string) string {
	c := *u
	c.Path = "/" + name
	return c.String()
}

// quote makes a database name an SQL identifier, whatever characters it has.
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
