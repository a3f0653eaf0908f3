package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	if cfg.postgres() {
		return &exitError{code: exitNotSQLite, err: errors.New("onramp backup copies the embedded SQLite database, and this server uses " +
			"PostgreSQL: back it up with pg_dump, for example\n  pg_dump --format=custom --file=onramp.dump \"$DATABASE_URL\"\n" +
			"(see docs/operations.md#backups for the restore)")}
	}
	o, err := open(ctx, getenv, stderr, false)
	if err != nil {
		return err
	}
	defer o.store.Close()
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".*")
	if err != nil {
		return err
	}
	// VACUUM INTO wants a file that does not exist (or is empty): the name is reserved, then freed.
	_ = tmp.Close()
	_ = os.Remove(tmp.Name())
	defer os.Remove(tmp.Name())
	if err := o.store.CopyTo(ctx, tmp.Name()); err != nil {
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
	_, err = fmt.Fprintf(stdout, "Backed up %s to %s (%d bytes)\n", o.cfg.database(), target, info.Size())
	return err
}
