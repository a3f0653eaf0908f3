package migrations_test

import (
	"context"
	"fmt"
	"testing"

	"onramp/migrations"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

// sqlOn runs literal SQL (valid on both databases) on a store, failing the test on error.
type sqlOn struct {
	t *testing.T
	s *store.Store
}

func (db sqlOn) exec(q string, args ...any) {
	db.t.Helper()
	if _, err := db.s.SQLDB().Exec(fmt.Sprintf(q, args...)); err != nil {
		db.t.Fatalf("%s: %v", fmt.Sprintf(q, args...), err)
	}
}

// id runs an INSERT … RETURNING id.
func (db sqlOn) id(q string, args ...any) int64 {
	db.t.Helper()
	var id int64
	if err := db.s.SQLDB().QueryRow(fmt.Sprintf(q, args...) + " RETURNING id").Scan(&id); err != nil {
		db.t.Fatalf("%s: %v", fmt.Sprintf(q, args...), err)
	}
	return id
}

func (db sqlOn) count(q string, args ...any) int {
	db.t.Helper()
	var n int
	if err := db.s.SQLDB().QueryRow(fmt.Sprintf(q, args...)).Scan(&n); err != nil {
		db.t.Fatalf("%s: %v", fmt.Sprintf(q, args...), err)
	}
	return n
}

const at = "'2026-01-02 03:04:05'"

// migratedTo opens a fresh database migrated up to version, for a test that fills it and
// migrates it on.
func migratedTo(t *testing.T, version int64) (*migrations.Migrator, sqlOn) {
	t.Helper()
	s := storetest.OpenUnmigrated(t)
	m, err := s.Migrator()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.UpTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
	return m, sqlOn{t, s}
}

// addAdmin inserts an admin and returns its id, or the database's refusal.
func (db sqlOn) addAdmin(accountID int64, email string) (int64, error) {
	var id int64
	err := db.s.SQLDB().QueryRow(fmt.Sprintf("INSERT INTO admins (account_id, email, name, role, created_at, updated_at) VALUES (%d, '%s', 'A', 'admin', %s, %s) RETURNING id",
		accountID, email, at, at)).Scan(&id)
	return id, err
}

func (db sqlOn) admin(accountID int64, email string) int64 {
	db.t.Helper()
	id, err := db.addAdmin(accountID, email)
	if err != nil {
		db.t.Fatalf("add admin %s: %v", email, err)
	}
	return id
}

// references counts the rows that refer to an admin: sessions, set-password links and codes
// it generated, runs it started.
func (db sqlOn) references(adminID int64) [4]int {
	db.t.Helper()
	return [4]int{
		db.count("SELECT COUNT(*) FROM admin_sessions WHERE admin_id = %d", adminID),
		db.count("SELECT COUNT(*) FROM one_time_tokens WHERE admin_id = %d", adminID),
		db.count("SELECT COUNT(*) FROM registration_codes WHERE generated_by_admin_id = %d", adminID),
		db.count("SELECT COUNT(*) FROM runs WHERE admin_id = %d", adminID),
	}
}

// expectReferences fails unless the rows referring to an admin are as many as want.
func (db sqlOn) expectReferences(adminID int64, want [4]int, when string) {
	db.t.Helper()
	if got := db.references(adminID); got != want {
		db.t.Fatalf("%s, %s: admin %d has sessions, links, codes, runs = %v, want %v", db.s.Dialect(), when, adminID, got, want)
	}
}

// deleteAdmin deletes an admin and checks that the foreign keys hold: its sessions and links
// go with it, its codes and runs forget it.
func (db sqlOn) deleteAdmin(adminID int64, when string) {
	db.t.Helper()
	db.exec("DELETE FROM admins WHERE id = %d", adminID)
	db.expectReferences(adminID, [4]int{}, when)
}

// Migration 00011 makes admin emails unique per account. On SQLite it rebuilds the admins table:
// every row that refers to an admin must survive it (with foreign keys on, dropping the table
// would delete or unlink them), the foreign keys must still work after it, and a deleted
// admin's id must not be given again. Its down migration restores the global uniqueness.
func TestAdminEmailPerAccountMigrationKeepsEveryReference(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, db := migratedTo(t, 10)
	s := db.s
	acme := db.id("INSERT INTO accounts (name, created_at, updated_at) VALUES ('acme', %s, %s)", at, at)
	globex := db.id("INSERT INTO accounts (name, created_at, updated_at) VALUES ('globex', %s, %s)", at, at)
	ada := db.admin(acme, "ada@example.com")
	gus := db.admin(globex, "gus@example.com")
	gone := db.admin(acme, "gone@example.com")
	db.exec("DELETE FROM admins WHERE id = %d", gone)
	user := db.id("INSERT INTO sdp_users (account_id, first_name, last_name, email, created_at, updated_at) VALUES (%d, 'U', 'V', 'u@example.com', %s, %s)", acme, at, at)
	for _, adminID := range []int64{ada, gus} {
		db.exec("INSERT INTO admin_sessions (id, admin_id, created_at, last_seen_at, expires_at) VALUES ('s%d', %d, %s, %s, %s)", adminID, adminID, at, at, at)
		db.exec("INSERT INTO one_time_tokens (purpose, token_hash, account_id, admin_id, expires_at, created_at) VALUES ('admin_password', 'h%d', %d, %d, %s, %s)", adminID, acme, adminID, at, at)
		db.exec("INSERT INTO registration_codes (account_id, sdp_user_id, lookup_hash, generated_by, generated_by_admin_id, created_at, expires_at) VALUES (%d, %d, 'l%d', 'admin', %d, %s, %s)", acme, user, adminID, adminID, at, at)
		db.exec("INSERT INTO runs (account_id, status, total, max_user_id, admin_id, actor_type, created_at, updated_at) VALUES (%d, 'done', 1, 1, %d, 'admin', %s, %s)", acme, adminID, at, at)
	}
	all := [4]int{1, 1, 1, 1}

	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	db.expectReferences(ada, all, "after the migration")
	db.expectReferences(gus, all, "after the migration")
	if n := db.count("SELECT COUNT(*) FROM admins WHERE (id = %d AND email = 'ada@example.com') OR (id = %d AND email = 'gus@example.com')", ada, gus); n != 2 {
		t.Fatalf("%s: %d of the 2 admins kept their id and email", s.Dialect(), n)
	}
	twin := db.admin(globex, "ada@example.com")
	if twin <= gone {
		t.Fatalf("%s: new admin got id %d, a deleted admin had %d", s.Dialect(), twin, gone)
	}
	if _, err := db.addAdmin(acme, "ada@example.com"); err == nil {
		t.Fatalf("%s: a second ada@example.com in one account", s.Dialect())
	}
	db.deleteAdmin(gus, "after the migration")

	db.exec("DELETE FROM admins WHERE id = %d", twin)
	if err := m.DownTo(ctx, 10); err != nil {
		t.Fatal(err)
	}
	db.expectReferences(ada, all, "after the down migration")
	if _, err := db.addAdmin(globex, "ada@example.com"); err == nil {
		t.Fatalf("%s: the down migration left emails unique per account", s.Dialect())
	}
	db.deleteAdmin(ada, "after the down migration")
}
