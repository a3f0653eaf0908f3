package demo

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"onramp/migrations"
	"onramp/models"
	"onramp/models/codes"
	"onramp/models/secret"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

// TestBuildMakesEveryState: a small demo account has users, codes, devices and mail in every
// state the console shows, events spread over weeks, and counters that match the rows. It is
// loaded in chunks of 100 users (on PostgreSQL by several workers at once into one transaction,
// rows copied with ids drawn beforehand): every row names rows that exist, of its own user.
func TestBuildMakesEveryState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Open(t)
	sealer := codes.NewSealer(secret.NewKeys([]byte("a-demo-test-secret-a-demo-test-secret")))
	now := time.Now().UTC()
	building := false
	res, err := Build(ctx, s, Options{Account: "demo", Users: 600, Sealer: sealer, Now: now, chunk: 100, Building: func() { building = true }})
	if err != nil {
		t.Fatal(err)
	}
	// Into a PostgreSQL database without users, in one transaction with the indexes built at the end.
	if want := s.Dialect() == migrations.Postgres; building != want {
		t.Errorf("indexes built at the end: %v, want %v", building, want)
	}
	id := res.Account.ID
	db := s.SQLDB()
	count := func(what, q string) int {
		t.Helper()
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n == 0 {
			t.Errorf("no %s", what)
		}
		return n
	}
	users := count("users", "SELECT COUNT(*) FROM sdp_users")
	if users != 600 {
		t.Fatalf("%d users, want 600", users)
	}
	count("enabled users", "SELECT COUNT(*) FROM sdp_users WHERE status = 'enabled'")
	count("disabled users", "SELECT COUNT(*) FROM sdp_users WHERE status = 'disabled'")
	for _, a := range []models.Activation{models.ActivationNew, models.ActivationInvitationSent, models.ActivationActive} {
		count("users "+string(a), "SELECT COUNT(*) FROM sdp_users WHERE activation = '"+string(a)+"'")
	}
	count("users with MFA", "SELECT COUNT(*) FROM sdp_users WHERE mfa_configured")
	count("directory users", "SELECT COUNT(*) FROM sdp_users WHERE origin <> 'manual'")

	states := map[models.CodeState]int{}
	rows, err := db.Query("SELECT expires_at, used_at, revoked_at, encrypted, sdp_user_id FROM registration_codes")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c models.RegistrationCode
		var used, revoked sql.NullTime
		if err := rows.Scan(&c.ExpiresAt, &used, &revoked, &c.Encrypted, &c.SDPUserID); err != nil {
			t.Fatal(err)
		}
		if used.Valid {
			c.UsedAt = &used.Time
		}
		if revoked.Valid {
			c.RevokedAt = &revoked.Time
		}
		st := c.State(now)
		states[st]++
		if (st == models.CodeActive) != (c.Encrypted != "") {
			t.Errorf("a %s code with encrypted copy %q", st, c.Encrypted)
		}
		if st == models.CodeActive {
			if _, err := sealer.Open(id, c.Encrypted); err != nil {
				t.Errorf("an active code does not open: %v", err)
			}
		}
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	for _, st := range []models.CodeState{models.CodeActive, models.CodeUsed, models.CodeExpired, models.CodeRevoked} {
		if states[st] == 0 {
			t.Errorf("no %s code (%v)", st, states)
		}
	}
	var mfaCodes int
	_ = db.QueryRow("SELECT COUNT(*) FROM registration_codes c JOIN sdp_users u ON u.id = c.sdp_user_id WHERE u.mfa_configured").Scan(&mfaCodes)
	if mfaCodes != 0 {
		t.Errorf("%d codes of users with MFA: codes are not for them", mfaCodes)
	}

	count("active devices", "SELECT COUNT(*) FROM devices WHERE revoked_at IS NULL")
	count("signed-out devices", "SELECT COUNT(*) FROM devices WHERE revoked_at IS NOT NULL")
	count("devices via code", "SELECT COUNT(*) FROM devices WHERE registered_via = 'code'")
	count("devices via password", "SELECT COUNT(*) FROM devices WHERE registered_via = 'password'")
	count("used codes tied to a device", "SELECT COUNT(*) FROM registration_codes WHERE used_at IS NOT NULL AND device_id IS NOT NULL")
	var drift int
	err = db.QueryRow(`SELECT COUNT(*) FROM sdp_users u WHERE u.devices <> (SELECT COUNT(*) FROM devices d WHERE d.sdp_user_id = u.id AND d.revoked_at IS NULL)`).Scan(&drift)
	if err != nil || drift != 0 {
		t.Errorf("%d users whose devices counter does not match their devices (%v)", drift, err)
	}

	var dangling int
	_ = db.QueryRow(`SELECT
		(SELECT COUNT(*) FROM events e WHERE e.sdp_user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sdp_users u WHERE u.id = e.sdp_user_id AND u.account_id = e.account_id))
		+ (SELECT COUNT(*) FROM events e WHERE e.device_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.id = e.device_id AND d.sdp_user_id = e.sdp_user_id))
		+ (SELECT COUNT(*) FROM registration_codes c WHERE c.device_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.id = c.device_id AND d.sdp_user_id = c.sdp_user_id))
		+ (SELECT COUNT(*) FROM mail_messages m WHERE NOT EXISTS (SELECT 1 FROM sdp_users u WHERE u.id = m.sdp_user_id AND u.account_id = m.account_id))
		+ (SELECT COUNT(*) FROM sdp_users u WHERE (SELECT COUNT(*) FROM events e WHERE e.sdp_user_id = u.id AND e.type = 'User' AND e.sub_type = 'Created') <> 1)`).Scan(&dangling)
	if dangling != 0 {
		t.Errorf("%d events, codes or emails that name a missing row or another user's, or users without their one Created event", dangling)
	}

	for _, st := range []models.MailStatus{models.MailHeld, models.MailQueued, models.MailSent, models.MailFailed} {
		count("mail "+string(st), "SELECT COUNT(*) FROM mail_messages WHERE status = '"+string(st)+"'")
	}
	for _, typ := range []models.EventType{models.EventUser, models.EventCode, models.EventDevice, models.EventPortal} {
		count(string(typ)+" events", "SELECT COUNT(*) FROM events WHERE type = '"+string(typ)+"'")
	}
	var first, last time.Time
	// (Ordered rather than MIN and MAX: SQLite hands aggregates back as text.)
	if err := db.QueryRow("SELECT occurred_at FROM events ORDER BY occurred_at LIMIT 1").Scan(&first); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT occurred_at FROM events ORDER BY occurred_at DESC LIMIT 1").Scan(&last); err != nil {
		t.Fatal(err)
	}
	if last.Sub(first) < 21*24*time.Hour || now.Sub(first) > 31*24*time.Hour || last.After(now) {
		t.Errorf("events from %s to %s: want them spread over the past weeks, up to now (%s)", first, last, now)
	}
	if res.Users != 600 || res.Codes == 0 || res.Devices == 0 || res.Events == 0 || res.Mail == 0 {
		t.Errorf("summary %+v", res)
	}
	// A second run adds to the account, with new emails, chunk by chunk with the indexes kept.
	building = false
	if _, err := Build(ctx, s, Options{Account: "demo", Users: 50, Sealer: sealer, Now: now, Building: func() { building = true }}); err != nil {
		t.Fatal(err)
	}
	if building {
		t.Error("the second run built the indexes again")
	}
	if n, _ := s.CountUsers(ctx, id, store.UserFilter{}); n != 650 {
		t.Fatalf("%d users after a second run, want 650", n)
	}
	// The ids drawn for the copied rows leave the sequences ahead: a user created after gets a new one.
	u := &models.SDPUser{AccountID: id, FirstName: "After", LastName: "Demo", Email: "after.demo@example.com", Origin: models.OriginManual,
		Status: models.UserEnabled, Activation: models.ActivationNew, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateUsers(ctx, []*models.SDPUser{u}); err != nil {
		t.Fatalf("a user after the demo: %v", err)
	}
}
