package migrations

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"

	"github.com/pressly/goose/v3"
)

// SQLite's migrations that cannot be SQL files: goose runs a file's statements in a transaction,
// or without one on a connection it returns to the pool even after a failed statement. A table
// rebuild needs foreign keys off on one connection around its own transaction (below).
// PostgreSQL's migrations are all SQL files.

// sqliteGoMigrations returns new Migration values on every call: a goose provider owns those it
// is given (it may set their fields), and migrators of several databases may run at once.
func sqliteGoMigrations() []*goose.Migration {
	adminEmailPerAccount := goose.NewGoMigration(11,
		&goose.GoFunc{RunDB: rebuild("admins", adminsColumns, adminsTable("email TEXT NOT NULL", ",\n    UNIQUE (account_id, email)"),
			"CREATE INDEX admins_account_idx ON admins (account_id, id)",
			"CREATE INDEX admins_email_idx ON admins (email)")},
		&goose.GoFunc{RunDB: rebuild("admins", adminsColumns, adminsTable("email TEXT NOT NULL UNIQUE", ""),
			"CREATE INDEX admins_account_idx ON admins (account_id, id)")})
	// The name migrate status shows, as its PostgreSQL twin's file name.
	adminEmailPerAccount.Source = "00011_admin_email_per_account.go"
	ssoClientsConsole := goose.NewGoMigration(25,
		&goose.GoFunc{RunDB: rebuild("devices", devicesColumns, devicesTable("'code', 'password', 'sso'"),
			slices.Concat(devicesIndexes, ssoClientsConsoleUp)...)},
		&goose.GoFunc{RunDB: rebuild("devices", devicesColumns, devicesTable("'code', 'password'"),
			slices.Concat(devicesIndexes, ssoClientsConsoleDown)...)})
	ssoClientsConsole.Source = "00025_sso_clients_console.go"
	return []*goose.Migration{adminEmailPerAccount, ssoClientsConsole}
}

// adminsTable is the admins table (00001 and 00010's columns, in their order) as admins_new,
// with the given email column and table constraint.
func adminsTable(email, constraint string) string {
	return `CREATE TABLE admins_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    ` + email + `,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'helpdesk')),
    status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    password_hash   TEXT NOT NULL DEFAULT '',
    last_sign_in_at DATETIME,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    totp_secret     TEXT NOT NULL DEFAULT '',
    totp_last_step  INTEGER NOT NULL DEFAULT 0` + constraint + `
)`
}

const adminsColumns = "id, account_id, email, name, role, status, password_hash, last_sign_in_at, created_at, updated_at, totp_secret, totp_last_step"

// rebuild replaces the table name with table, created as name_new with the given columns
// (SQLite cannot change a column's constraints in place), keeping every row, its id and every
// row that refers to it, then runs the statements after (the table's indexes, and whatever
// else the migration does, in the same transaction). It follows SQLite's procedure
// (https://www.sqlite.org/lang_altertable.html#otheralter): with foreign keys on, dropping
// admins would delete the admins' sessions and set-password links and forget who generated
// codes and started runs. The sequence is carried over so that a deleted row's id, which old
// events still name, is never given again.
func rebuild(name, columns, table string, after ...string) func(context.Context, *sql.DB) error {
	return func(ctx context.Context, db *sql.DB) (err error) {
		conn, err := db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		// A no-op inside a transaction: it must come before BEGIN.
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
			return err
		}
		defer func() {
			if _, ferr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON"); ferr != nil {
				// A connection without foreign keys must not go back to the pool.
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
				err = errors.Join(err, ferr)
			}
		}()
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		steps := append([]string{
			table,
			"INSERT INTO sqlite_sequence (name, seq) SELECT '" + name + "_new', seq FROM sqlite_sequence WHERE name = '" + name + "'",
			"INSERT INTO " + name + "_new (" + columns + ") SELECT " + columns + " FROM " + name,
			"DROP TABLE " + name,
			"ALTER TABLE " + name + "_new RENAME TO " + name,
		}, after...)
		for _, q := range steps {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("rebuild %s: %w", name, err)
			}
		}
		if err := foreignKeysHold(ctx, tx, name); err != nil {
			return err
		}
		return tx.Commit()
	}
}

// foreignKeysHold fails when a row refers to a row that does not exist (PRAGMA
// foreign_key_check lists such rows).
func foreignKeysHold(ctx context.Context, tx *sql.Tx, name string) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int64
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return err
		}
		return fmt.Errorf("rebuild %s: row %d of %s refers to a missing row of %s", name, rowid.Int64, table, parent)
	}
	return rows.Err()
}
