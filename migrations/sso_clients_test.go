package migrations_test

import (
	"context"
	"testing"
)

// Migration 00025 lets devices be registered via sso. On SQLite it rebuilds the devices table:
// every device keeps its id, the codes that registered them still name them, the foreign keys
// still work after it, and a deleted device's id is not given again.
func TestSSODevicesMigrationKeepsDevices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, db := migratedTo(t, 24)
	s := db.s
	acme := db.id("INSERT INTO accounts (name, created_at, updated_at) VALUES ('acme', %s, %s)", at, at)
	user := db.id("INSERT INTO sdp_users (account_id, first_name, last_name, email, created_at, updated_at) VALUES (%d, 'U', 'V', 'u@example.com', %s, %s)", acme, at, at)
	device := func(via, hash string) int64 {
		return db.id("INSERT INTO devices (account_id, sdp_user_id, name, registered_via, token_hash, registered_at, last_seen_at) VALUES (%d, %d, 'laptop', '%s', '%s', %s, %s)",
			acme, user, via, hash, at, at)
	}
	laptop := device("code", "t1")
	gone := device("password", "t2")
	db.exec("DELETE FROM devices WHERE id = %d", gone)
	db.exec("INSERT INTO registration_codes (account_id, sdp_user_id, lookup_hash, generated_by, created_at, expires_at, device_id) VALUES (%d, %d, 'l1', 'bulk', %s, %s, %d)",
		acme, user, at, at, laptop)

	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if n := db.count("SELECT COUNT(*) FROM registration_codes WHERE device_id = %d", laptop); n != 1 {
		t.Fatalf("%s: the code no longer names its device", s.Dialect())
	}
	phone := device("sso", "t3")
	if phone <= gone {
		t.Fatalf("%s: new device got id %d, a deleted device had %d", s.Dialect(), phone, gone)
	}
	db.exec("DELETE FROM devices WHERE id = %d", phone)
	db.exec("DELETE FROM devices WHERE id = %d", laptop)
	if n := db.count("SELECT COUNT(*) FROM registration_codes WHERE device_id IS NULL"); n != 1 {
		t.Fatalf("%s: deleting the device did not unlink its code", s.Dialect())
	}
	if err := m.DownTo(ctx, 24); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SQLDB().Exec("INSERT INTO devices (account_id, sdp_user_id, name, registered_via, token_hash, registered_at, last_seen_at) VALUES (1, 1, 'x', 'sso', 't4', '2026-01-02 03:04:05', '2026-01-02 03:04:05')"); err == nil {
		t.Fatalf("%s: the down migration still accepts devices via sso", s.Dialect())
	}
}
