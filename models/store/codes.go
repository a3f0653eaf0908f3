package store

import (
	"context"
	"slices"
	"time"

	"onramp/migrations"
	"onramp/models"
)

// Registration codes and "Generate for new users" runs. A user's counts of codes (had a code,
// active codes) are read from the codes (userCodes), never kept on the user's row: a code
// written, used, revoked or wiped changes no user.

// CreateCodes inserts codes, filling in their ids: a thousand rows per INSERT on PostgreSQL,
// fifty on SQLite, whose driver matches each bound parameter to its argument by a linear
// search (binding costs the square of a statement's parameters: a 12,000-parameter INSERT
// spends longer binding than inserting, and in-process statements cost next to nothing).
func (s *Store) CreateCodes(ctx context.Context, cs []*models.RegistrationCode) error {
	if len(cs) == 0 {
		return nil
	}
	return wrap(s.q(ctx).CreateInBatches(cs, s.insertBatch(1000)).Error)
}

// insertBatch is how many rows one multi-row INSERT of the given PostgreSQL size carries here.
func (s *Store) insertBatch(pg int) int {
	if s.dialect == migrations.Postgres {
		return pg
	}
	return min(pg, 50)
}

// NewCodes is a batch of codes generated together: what they share, and each one's user, lookup
// hash and sealed copy (UserIDs, Lookups and Sealed in step).
type NewCodes struct {
	AccountID            int64
	GeneratedBy          string
	AdminID, HandoutID   *int64
	CreatedAt, ExpiresAt time.Time
	EmailedAt            *time.Time
	UserIDs              []int64
	Lookups, Sealed      []string
}

// InsertCodes inserts a batch of codes in one statement, whatever its size (the columns bound
// as arrays), and returns their ids in the order of c.UserIDs, in which a user appears once.
func (s *Store) InsertCodes(ctx context.Context, c NewCodes) ([]int64, error) {
	if len(c.UserIDs) == 0 {
		return nil, nil
	}
	from, args := "unnest(?::bigint[], ?::text[], ?::text[]) AS t(u, l, e)", []any{pgArray(c.UserIDs), pgArray(c.Lookups), pgArray(c.Sealed)}
	cols := "u, l, e"
	if s.dialect != migrations.Postgres {
		rows := make([][3]any, len(c.UserIDs))
		for i := range rows {
			rows[i] = [3]any{c.UserIDs[i], c.Lookups[i], c.Sealed[i]}
		}
		from, args = "json_each(?)", []any{jsonArray(rows)}
		cols = "value ->> 0, value ->> 1, value ->> 2"
	}
	// The ids come back scanned by hand: GORM's Scan reflects on every row of thousands.
	rows, err := s.q(ctx).Raw(`INSERT INTO registration_codes (sdp_user_id, lookup_hash, encrypted, account_id, generated_by,
			generated_by_admin_id, created_at, expires_at, handout_id, emailed_at)
		SELECT `+cols+`, ?, ?, ?, ?, ?, ?, ? FROM `+from+` RETURNING id, sdp_user_id`,
		append([]any{c.AccountID, c.GeneratedBy, c.AdminID, c.CreatedAt, c.ExpiresAt, c.HandoutID, c.EmailedAt}, args...)...).Rows()
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	byUser := make(map[int64]int64, len(c.UserIDs))
	for rows.Next() {
		var id, user int64
		if err := rows.Scan(&id, &user); err != nil {
			return nil, wrap(err)
		}
		byUser[user] = id
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err)
	}
	ids := make([]int64, len(c.UserIDs))
	for i, u := range c.UserIDs {
		ids[i] = byUser[u]
	}
	return ids, nil
}

// ClaimUsersWithoutCode takes the next limit enabled users without MFA of an account that have
// no code (codes do not support MFA), with ids above after and up to maxID, in id order: it
// returns them (taken, in id order; none when none is left) and those of them that still have
// no code once locked (claimed, in id order).
//
// On PostgreSQL the users are locked first (FOR NO KEY UPDATE, the lock an update of their row
// takes, without writing the row): whoever gives one of them a code holds that lock until it
// commits, and the status and MFA conditions are checked again on the row the lock was granted
// on. The codes are then looked for by a second statement, whose snapshot is taken after the
// locks were granted and so sees the code another transaction gave meanwhile. SQLite's
// IMMEDIATE transactions run one at a time.
//
// Both statements look each user's codes up by the index, one user at a time (a subquery
// with a LIMIT, which no planner turns into a join): PostgreSQL's generic plan of a NOT EXISTS
// joined every user taken with every code of the account by a nested loop, which made a run of
// 100,000 users take minutes.
func (s *Store) ClaimUsersWithoutCode(ctx context.Context, accountID, after, maxID int64, limit int) (taken, claimed []int64, err error) {
	eligible := "status = 'enabled' AND " + s.boolFalse("mfa_configured")
	next := `SELECT id FROM sdp_users WHERE account_id = ? AND id > ? AND id <= ? AND ` + eligible + ` AND ` + noCodeOf("sdp_users.account_id", "sdp_users.id") +
		` ORDER BY id LIMIT ?`
	if s.dialect != migrations.Postgres {
		err = s.q(ctx).Raw(next, accountID, after, maxID, limit).Scan(&taken).Error
		return taken, taken, wrap(err)
	}
	err = s.planEachTime(ctx, limit, func() error {
		if err := s.q(ctx).Raw(next+` FOR NO KEY UPDATE`, accountID, after, maxID, limit).Scan(&taken).Error; err != nil || len(taken) == 0 {
			return err
		}
		slices.Sort(taken)
		return s.q(ctx).Raw(`SELECT id FROM unnest(?::bigint[]) AS t(id) WHERE `+noCodeOf("?", "t.id")+` ORDER BY id`,
			pgArray(taken), accountID).Scan(&claimed).Error
	})
	if err != nil || len(taken) == 0 {
		return nil, nil, wrap(err)
	}
	return taken, claimed, nil
}

// noCodeOf is "the user has no code" for one user (the SQL of their account id and id), looked
// up by the index of the codes by user for that user alone.
func noCodeOf(account, user string) string {
	return "(SELECT 1 FROM registration_codes c WHERE c.account_id = " + account + " AND c.sdp_user_id = " + user + " LIMIT 1) IS NULL"
}

// ClaimUsersForCode locks the account's users among ids, of whom the enabled ones without MFA
// are each about to get one more code, and returns those in id order, with the count of the
// others found (of them, with MFA). The lock (PostgreSQL's FOR NO KEY UPDATE) is the only read
// of them, in one statement: the state it returns is that of the row the lock was granted on.
// The others are locked too, for the few hundred milliseconds of a batch.
func (s *Store) ClaimUsersForCode(ctx context.Context, accountID int64, ids []int64) (claimed []int64, skipped, skippedMFA int, err error) {
	if len(ids) == 0 {
		return nil, 0, 0, nil
	}
	in, arg := s.inIDs("id", ids)
	lock := ""
	if s.dialect == migrations.Postgres {
		lock = " FOR NO KEY UPDATE"
	}
	rows, err := s.q(ctx).Raw(`SELECT id, status = 'enabled', `+s.boolTrue("mfa_configured")+` FROM sdp_users WHERE account_id = ? AND `+in+
		` ORDER BY id`+lock, accountID, arg).Rows()
	if err != nil {
		return nil, 0, 0, wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var enabled, mfa bool
		if err := rows.Scan(&id, &enabled, &mfa); err != nil {
			return nil, 0, 0, wrap(err)
		}
		switch {
		case enabled && !mfa:
			claimed = append(claimed, id)
		case enabled:
			skipped++
			skippedMFA++
		default:
			skipped++
		}
	}
	return claimed, skipped, skippedMFA, wrap(rows.Err())
}

// CountUsersWithoutCode counts the enabled users without MFA of an account that never had a
// code: the number "Generate for new users" works through.
func (s *Store) CountUsersWithoutCode(ctx context.Context, accountID int64) (int64, error) {
	return s.CountUsers(ctx, accountID, UserFilter{Status: models.UserEnabled, NeverHadCode: true, MFA: "no"})
}

// CountUsersWithoutCodeByMFA counts the enabled users of an account that never had a code,
// without MFA (those "Generate for new users" works through) and with MFA (those it skips), in
// one pass: at a million users each pass is an anti-join of the users with the codes.
func (s *Store) CountUsersWithoutCodeByMFA(ctx context.Context, accountID int64) (withoutMFA, withMFA int64, err error) {
	var row struct{ NoMFA, MFA int64 }
	err = s.applyUserFilter(s.q(ctx).Model(&models.SDPUser{}).Where("account_id = ?", accountID),
		UserFilter{Status: models.UserEnabled, NeverHadCode: true}).
		Select(`COALESCE(SUM(CASE WHEN ` + s.boolFalse("mfa_configured") + ` THEN 1 ELSE 0 END), 0) AS no_mfa,
			COALESCE(SUM(CASE WHEN ` + s.boolTrue("mfa_configured") + ` THEN 1 ELSE 0 END), 0) AS mfa`).Scan(&row).Error
	return row.NoMFA, row.MFA, wrap(err)
}

// MaxUserID is the newest user id of an account (0 without users).
func (s *Store) MaxUserID(ctx context.Context, accountID int64) (int64, error) {
	var id *int64
	err := s.q(ctx).Model(&models.SDPUser{}).Where("account_id = ?", accountID).Select("MAX(id)").Scan(&id).Error
	if err != nil || id == nil {
		return 0, wrap(err)
	}
	return *id, nil
}

// CodeRef names a code and its user.
type CodeRef struct {
	ID        int64
	AccountID int64
	SDPUserID int64
	ExpiresAt time.Time // set by WipeExpiredCodes only
}

// RevokeUserCodes revokes the active codes of the account's users among ids at now (revoked_at
// set, encrypted copy wiped), wipes the copies their expired codes may still hold, and returns
// the codes it revoked. Codes already used, revoked or expired keep their state.
func (s *Store) RevokeUserCodes(ctx context.Context, accountID int64, ids []int64, now time.Time) ([]CodeRef, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []CodeRef
	err := s.q(ctx).Raw(`UPDATE registration_codes SET revoked_at = ?, encrypted = ''
		WHERE account_id = ? AND sdp_user_id IN ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?
		RETURNING id, account_id, sdp_user_id`, now, accountID, ids, now).Scan(&out).Error
	if err != nil {
		return nil, wrap(err)
	}
	err = s.q(ctx).Exec(`UPDATE registration_codes SET encrypted = '' WHERE account_id = ? AND sdp_user_id IN ? AND encrypted <> ''`,
		accountID, ids).Error
	return out, wrap(err)
}

// UserEmails maps the account's users among ids to their emails (for events).
func (s *Store) UserEmails(ctx context.Context, accountID int64, ids []int64) (map[int64]string, error) {
	var rows []struct {
		ID    int64
		Email string
	}
	if len(ids) > 0 {
		if err := s.q(ctx).Model(&models.SDPUser{}).Select("id, email").Where("account_id = ? AND id IN ?", accountID, ids).
			Scan(&rows).Error; err != nil {
			return nil, wrap(err)
		}
	}
	out := make(map[int64]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Email
	}
	return out, nil
}

// ExpiredUnwipedCodes returns up to limit codes, of every account, that expired by now and still
// hold an encrypted copy (the partial index registration_codes_wipe_idx finds them).
func (s *Store) ExpiredUnwipedCodes(ctx context.Context, now time.Time, limit int) ([]CodeRef, error) {
	var out []CodeRef
	err := s.q(ctx).Model(&models.RegistrationCode{}).Select("id, account_id, sdp_user_id").
		Where("encrypted <> '' AND expires_at <= ?", now).Order("expires_at").Limit(limit).Scan(&out).Error
	return out, wrap(err)
}

// LockUsers takes the row locks of users (PostgreSQL; SQLite's transactions already hold the
// write lock), in id order. Callers that change a user's codes lock the user first, as the Users
// Actions do, so that two transactions never wait on each other in opposite orders.
func (s *Store) LockUsers(ctx context.Context, ids []int64) error {
	if s.dialect != migrations.Postgres || len(ids) == 0 {
		return nil
	}
	var got []int64
	return wrap(s.q(ctx).Model(&models.SDPUser{}).Where("id IN ?", ids).Order("id").Clauses(lockForUpdate).Pluck("id", &got).Error)
}

// WipeExpiredCodes wipes the encrypted copy of the codes among ids that expired by now and still
// hold one, and returns those it wiped (a code used or revoked meanwhile is not among them).
func (s *Store) WipeExpiredCodes(ctx context.Context, ids []int64, now time.Time) ([]CodeRef, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []CodeRef
	err := s.q(ctx).Raw(`UPDATE registration_codes SET encrypted = ''
		WHERE id IN ? AND encrypted <> '' AND expires_at <= ?
		RETURNING id, account_id, sdp_user_id, expires_at`, ids, now).Scan(&out).Error
	return out, wrap(err)
}

// CodeExportRow is one line of the registration codes CSV, still sealed.
type CodeExportRow struct {
	ID        int64
	Encrypted string
	ExpiresAt time.Time
	FirstName string
	LastName  string
	Email     string
}

// ActiveCodesAfter returns up to limit of an account's active codes (not used, not revoked, not
// expired at now) with ids above after, in id order, with their users' names: the CSV reads
// them a page at a time so that its memory does not grow with the number of codes. The
// used_at/revoked_at predicate is the literal one of the partial index
// registration_codes_open_idx (account_id, id).
// The rows are scanned by hand: GORM's reflection-based Scan took half the export's time.
func (s *Store) ActiveCodesAfter(ctx context.Context, accountID int64, now time.Time, after int64, limit int) ([]CodeExportRow, error) {
	return s.activeCodesAfter(ctx, accountID, nil, now, after, limit)
}

// activeCodesAfter is ActiveCodesAfter, limited to one handout when handoutID is not nil.
func (s *Store) activeCodesAfter(ctx context.Context, accountID int64, handoutID *int64, now time.Time, after int64, limit int) ([]CodeExportRow, error) {
	q := `SELECT c.id, c.encrypted, c.expires_at, u.first_name, u.last_name, u.email
		FROM registration_codes c JOIN sdp_users u ON u.id = c.sdp_user_id
		WHERE c.account_id = ? AND c.used_at IS NULL AND c.revoked_at IS NULL AND c.id > ? AND c.expires_at > ? AND c.encrypted <> ''`
	args := []any{accountID, after, now}
	if handoutID != nil {
		q += ` AND c.handout_id = ?`
		args = append(args, *handoutID)
	}
	rows, err := s.q(ctx).Raw(q+` ORDER BY c.id LIMIT ?`, append(args, limit)...).Rows()
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	out := make([]CodeExportRow, 0, limit)
	for rows.Next() {
		var r CodeExportRow
		if err := rows.Scan(&r.ID, &r.Encrypted, &r.ExpiresAt, &r.FirstName, &r.LastName, &r.Email); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, wrap(rows.Err())
}

// UserCode is a code as the user page shows it, with the email of the admin who generated it
// and the name of the device it registered.
type UserCode struct {
	models.RegistrationCode
	AdminEmail string
	DeviceName string
}

// UserCodes returns the newest codes of one user of an account.
func (s *Store) UserCodes(ctx context.Context, accountID, userID int64, limit int) ([]UserCode, error) {
	var rows []models.RegistrationCode
	err := s.q(ctx).Where("account_id = ? AND sdp_user_id = ?", accountID, userID).Order("id DESC").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, wrap(err)
	}
	ids := map[int64]bool{}
	for _, c := range rows {
		if c.GeneratedByAdminID != nil {
			ids[*c.GeneratedByAdminID] = true
		}
	}
	emails := map[int64]string{}
	if len(ids) > 0 {
		list := make([]int64, 0, len(ids))
		for id := range ids {
			list = append(list, id)
		}
		var admins []models.Admin
		if err := s.q(ctx).Select("id, email").Where("account_id = ? AND id IN ?", accountID, list).Find(&admins).Error; err != nil {
			return nil, wrap(err)
		}
		for _, a := range admins {
			emails[a.ID] = a.Email
		}
	}
	devices := map[int64]string{}
	var deviceIDs []int64
	for _, c := range rows {
		if c.DeviceID != nil {
			deviceIDs = append(deviceIDs, *c.DeviceID)
		}
	}
	if len(deviceIDs) > 0 {
		var ds []models.Device
		if err := s.q(ctx).Select("id, name").Where("account_id = ? AND id IN ?", accountID, deviceIDs).Find(&ds).Error; err != nil {
			return nil, wrap(err)
		}
		for _, d := range ds {
			devices[d.ID] = d.Name
		}
	}
	out := make([]UserCode, len(rows))
	for i, c := range rows {
		out[i] = UserCode{RegistrationCode: c}
		if c.GeneratedByAdminID != nil {
			out[i].AdminEmail = emails[*c.GeneratedByAdminID]
		}
		if c.DeviceID != nil {
			out[i].DeviceName = devices[*c.DeviceID]
		}
	}
	return out, nil
}
