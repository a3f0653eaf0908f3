package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"onramp/models/store"
)

// exitNotSQLite is backup's exit status on PostgreSQL, whose backups are pg_dump's.
const exitNotSQLite = 2

// backup serves `onramp backup FILE`: a consistent copy of the embedded SQLite database, taken
// while the server runs. The copy is written beside FILE and renamed into place only once
// complete, readable by its owner only.
func backup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) != 1 || args[0] == "" || args[0][0] == '-' {
		return errors.New("usage: onramp backup FILE (a new file: the copy of the SQLite database)")
	}
	target, err := filepath.Abs(args[0])
	if err != nil {
		return err
	}
	if _, err := os.Lstat(target); err == nil {
		return fmt.Errorf("%s exists: choose a new file, a backup never overwrites one", target)
	}
	// Only where the database is matters: a backup runs beside the server without its secret.
	var p problems
	env := fromFiles(getenv, &p)
	cfg := config{DatabaseURL: env("DATABASE_URL"), DataDir: orDefault(env("ONRAMP_DATA_DIR"), "data")}
	if err := p.err(); err != nil {
		return err
	}
	if cfg.postgres() {
		return &exitError{code: exitNotSQLite, err: errors.New("onramp backup copies the embedded SQLite database, and this server uses " +
			"PostgreSQL: back it up with pg_dump, for example\n  pg_dump --format=custom --file=onramp.dump \"$DATABASE_URL\"\n" +
			"(see docs/operations.md#backups for the restore)")}
	}
	// Opening a file that is not there would make an empty database.
	path := cfg.sqlitePath()
	for _, prefix := range []string{"sqlite:", "file:"} {
		if rest, ok := strings.CutPrefix(cfg.DatabaseURL, prefix); ok {
			path = rest
		}
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no database to back up: %w (set ONRAMP_DATA_DIR or DATABASE_URL as for onramp serve)", err)
	}
	s, err := store.Open(ctx, cfg.DatabaseURL, store.Options{SQLitePath: cfg.sqlitePath()})
	if err != nil {
		return err
	}
	defer s.Close()
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".*")
	if err != nil {
		return err
	}
	// VACUUM INTO wants a file that does not exist (or is empty): the name is reserved, then freed.
	_ = tmp.Close()
	_ = os.Remove(tmp.Name())
	defer os.Remove(tmp.Name())
	if err := s.CopyTo(ctx, tmp.Name()); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return err
	}
	info, err := os.Stat(target)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "Backed up %s to %s (%d bytes)\n", cfg.database(), target, info.Size())
	return err
}
