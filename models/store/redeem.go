package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"gorm.io/gorm"

	"onramp/migrations"
	"onramp/models"
)

// Redemption is what redeeming one code writes. The device's account, user and id, and the
// events' account, user, email, actor label, address, device and time come from the code, its
// user and the redemption itself.
type Redemption struct {
	LookupHash string
	At         time.Time
	IP         string
	// Device: Name, Platform, RegisteredVia and TokenHash.
	Device models.Device
	// Events: Type, SubType, ActorType and Details of each event the redemption writes.
	Events []models.Event
	// Budget, when set, admits the redemption within its client's shared failure budget in the
	// same statement (ratelimit.Limiter.Try): past it, nothing is read or written and Redeemed
	// says BudgetRefused. Budgets are shared on PostgreSQL only; SQLite ignores it.
	Budget *RateCheck
}

// Redeemed is the outcome of Redeem.
type Redeemed struct {
	// Code is the code as it was before the redemption (ID, account, user, expiry, used and
	// revoked times), nil when no code has the lookup hash.
	Code *models.RegistrationCode
	// UserReady: the code was active and its user enabled without MFA. When it is false for an
	// active code, the user is disabled, has MFA or is gone, and nothing was written.
	UserReady bool
	// Device is the new device (its ID set) when this redemption won, else nil: with UserReady,
	// another redemption used the code (or revoked it) first.
	Device *models.Device
	// User holds the ID, account, email and names of the code's user when the redemption won.
	User *models.SDPUser
	// Account holds the ID and name of the code's account when the redemption won.
	Account *models.Account
	// BudgetRefused: the client's bucket was past Redemption.Budget; nothing else is set.
	BudgetRefused bool
}

// Redeem uses the active code with r's lookup hash for a new device of its enabled user without
// MFA, in one transaction: the user's devices counter (one device more), the
// device, the code (used, at which address, by which device, its encrypted copy wiped) and the
// events. Of any number of concurrent redemptions of one code exactly one wins: the code's
// conditional UPDATE decides (PostgreSQL re-checks its WHERE clause on the row version a
// winner committed; SQLite's IMMEDIATE transactions run one at a time).
//
// The user's row is locked before the code's, the order Disable, Reset password and MFA
// enrollment take them (users, then their codes and devices), so that they cannot deadlock;
// and since the lock re-checks that the user is enabled without MFA, a redemption and a
// concurrent Disable or enrollment of the same user are ordered: either the redemption commits
// first and the other change comes after the device exists, or the other change commits first
// and the redemption writes nothing (the code stays unused).
//
// On PostgreSQL all of it is one statement, one round trip: its CTEs read the client's failure
// budget (r.Budget, so that admitting a redemption costs no round trip of its own), lock the
// user, update the code (taking the device's id from its sequence), then insert the device,
// count it on the user and insert both events from the code's RETURNING row, so that a
// redemption that lost writes nothing. Redemptions that arrive while others are being written
// share the next such statement (redeemBatcher): each is decided on its own rows as if alone.
// On SQLite, which has no writing CTEs, it is a few statements in a short write transaction,
// which the redemptions waiting meanwhile share in the same way.
func (s *Store) Redeem(ctx context.Context, r Redemption) (*Redeemed, error) {
	if s.redeemer == nil { // inside a transaction: in it, alone
		outs, err := s.redeemTogether(ctx, []Redemption{r})
		if err != nil {
			return nil, err
		}
		return outs[0], nil
	}
	return s.redeemer.redeem(ctx, r)
}

// redeemTogether writes redemptions of different codes together, each decided on its own rows
// as alone, and returns their outcomes in rs's order.
func (s *Store) redeemTogether(ctx context.Context, rs []Redemption) ([]*Redeemed, error) {
	if s.dialect == migrations.Postgres {
		return s.redeemPostgres(ctx, rs)
	}
	return s.redeemSQLite(ctx, rs)
}

// redeemSQLite is redeemTogether on SQLite. Each code and its account's name are read before
// the write transaction, beside other readers (WAL), so that the transaction holds SQLite's one
// write lock for the writes alone; then those still active are written in one transaction, each
// in a savepoint of its own, which a redemption that lost the code meanwhile rolls back (its
// conditional UPDATE of the code re-checks what the read saw).
func (s *Store) redeemSQLite(ctx context.Context, rs []Redemption) ([]*Redeemed, error) {
	outs := make([]*Redeemed, len(rs))
	var active []int
	for i, r := range rs {
		c := &models.RegistrationCode{LookupHash: r.LookupHash}
		out := &Redeemed{Code: c, User: &models.SDPUser{}, Account: &models.Account{}}
		err := s.db.Statement.ConnPool.QueryRowContext(ctx, `SELECT c.id, c.account_id, c.sdp_user_id, c.expires_at, c.used_at, c.revoked_at, a.name
			FROM registration_codes c JOIN accounts a ON a.id = c.account_id WHERE c.lookup_hash = ?`, r.LookupHash).
			Scan(&c.ID, &c.AccountID, &c.SDPUserID, &c.ExpiresAt, &c.UsedAt, &c.RevokedAt, &out.Account.Name)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			out = &Redeemed{}
		case err != nil:
			return nil, wrap(err)
		case c.State(r.At) == models.CodeActive:
			active = append(active, i)
		}
		outs[i] = out
	}
	devices := make([]int64, len(rs))
	if len(active) > 0 {
		err := s.Tx(ctx, func(tx *Store) error {
			for _, i := range active {
				err := tx.Tx(ctx, func(sp *Store) error {
					var err error
					devices[i], err = sp.writeRedemptionSQLite(ctx, rs[i], outs[i])
					return err
				})
				if err != nil && !errors.Is(err, errLost) {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, wrap(err)
		}
	}
	for i, out := range outs {
		if out.Code != nil {
			outs[i] = s.won(out, rs[i], devices[i])
		}
	}
	return outs, nil
}

// errLost rolls back a redemption that locked the user but did not get the code.
var errLost = errors.New("store: the code was used meanwhile")

// redeemPG is the statement of any number of redemptions on PostgreSQL, each decided on its own
// rows as Redeem's one statement would alone. The redemptions come as arrays, one element each
// (their order is i.ord): $1 lookup hash, $2 time, $3 address, $4 name, $5 platform, $6 via,
// $7 token hash, $8 the events' actor type, then the budget's limiter, bucket and latest
// full-again time ($9, $10, $11; a bucket that no row has and the largest time when there is
// no budget); their events as four arrays, one element an event: the redemption's ord, type,
// sub-type and details ($12 to $15). No two may have the same lookup hash (redeemBatcher keeps
// them apart). The users are locked in the order of their ids, so that two such statements lock
// the users they share in the same order. The final SELECT reads, for each redemption, the CTEs'
// rows: whether the budget admitted it, the code as the statement found it, the locked user,
// and the device id when the code was won.
const redeemPG = `WITH i AS (
	SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
		$9::text[], $10::text[], $11::bigint[])
		WITH ORDINALITY AS i(lookup, at, ip, name, platform, via, token, actor, limiter, bucket, until, ord)
), b AS (
	SELECT i.*, COALESCE((SELECT full_at FROM rate_limits WHERE limiter = i.limiter AND bucket = i.bucket), 0) <= i.until AS admitted
	FROM i
), c AS (
	SELECT b.ord, r.id, r.account_id, r.sdp_user_id, r.expires_at, r.used_at, r.revoked_at
	FROM b JOIN registration_codes r ON r.lookup_hash = b.lookup WHERE b.admitted
), u AS (
	SELECT sdp_users.id, sdp_users.account_id, sdp_users.email, sdp_users.first_name, sdp_users.last_name, b.ord
	FROM b JOIN c ON c.ord = b.ord JOIN sdp_users ON sdp_users.account_id = c.account_id AND sdp_users.id = c.sdp_user_id
	WHERE c.used_at IS NULL AND c.revoked_at IS NULL AND c.expires_at > b.at
		AND sdp_users.status = 'enabled' AND NOT sdp_users.mfa_configured
	ORDER BY sdp_users.id
	FOR UPDATE OF sdp_users
), rc AS (
	UPDATE registration_codes r SET used_at = b.at, encrypted = '', used_ip = b.ip, device_id = nextval('devices_id_seq')
	FROM u JOIN b ON b.ord = u.ord
	WHERE r.lookup_hash = b.lookup AND r.account_id = u.account_id AND r.sdp_user_id = u.id
		AND r.used_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > b.at
	RETURNING r.device_id, r.account_id, r.sdp_user_id, b.ord
), d AS (
	INSERT INTO devices (id, account_id, sdp_user_id, name, platform, registered_via, token_hash, registered_at, last_seen_at)
	SELECT rc.device_id, rc.account_id, rc.sdp_user_id, b.name, b.platform, b.via, b.token, b.at, b.at FROM rc JOIN b ON b.ord = rc.ord
), n AS (
	UPDATE sdp_users SET devices = devices + k.won
	FROM (SELECT account_id, sdp_user_id, count(*) AS won FROM rc GROUP BY account_id, sdp_user_id) k
	WHERE sdp_users.account_id = k.account_id AND sdp_users.id = k.sdp_user_id
), e AS (
	INSERT INTO events (account_id, occurred_at, type, sub_type, actor_type, actor_label, email, source_ip, details, sdp_user_id, device_id)
	SELECT u.account_id, b.at, ev.type, ev.sub_type, b.actor, u.email, u.email, b.ip, ev.details, u.id, rc.device_id
	FROM rc JOIN u ON u.ord = rc.ord JOIN b ON b.ord = rc.ord
		JOIN unnest($12::bigint[], $13::text[], $14::text[], $15::text[]) AS ev(ord, type, sub_type, details) ON ev.ord = rc.ord
)
SELECT b.ord, b.admitted, c.id, c.account_id, c.sdp_user_id, c.expires_at, c.used_at, c.revoked_at, u.id IS NOT NULL,
	COALESCE(u.email, ''), COALESCE(u.first_name, ''), COALESCE(u.last_name, ''), COALESCE(rc.device_id, 0), COALESCE(a.name, '')
FROM b LEFT JOIN c ON c.ord = b.ord LEFT JOIN u ON u.ord = b.ord LEFT JOIN rc ON rc.ord = b.ord LEFT JOIN accounts a ON a.id = rc.account_id`

// redeemPostgres runs redeemPG for rs, whose lookup hashes differ, through database/sql (the
// driver keeps it prepared per connection): GORM's statement building and reflection cost more
// CPU than the statement's round trip here. It returns each redemption's outcome, in rs's order.
func (s *Store) redeemPostgres(ctx context.Context, rs []Redemption) ([]*Redeemed, error) {
	n := len(rs)
	lookups, ats, ips, names, platforms, vias, tokens, actors := make([]string, n), make([]time.Time, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	limiters, buckets, untils := make([]string, n), make([]string, n), make([]int64, n)
	var evOrds []int64
	var evTypes, evSubs, evDetails []string
	for i, r := range rs {
		lookups[i], ats[i], ips[i] = r.LookupHash, r.At, r.IP
		names[i], platforms[i], vias[i], tokens[i] = r.Device.Name, r.Device.Platform, r.Device.RegisteredVia, r.Device.TokenHash
		untils[i] = math.MaxInt64
		if r.Budget != nil {
			limiters[i], buckets[i], untils[i] = r.Budget.Limiter, r.Budget.Key, r.Budget.Until
		}
		for _, e := range r.Events {
			actors[i] = string(e.ActorType)
			evOrds, evTypes = append(evOrds, int64(i+1)), append(evTypes, string(e.Type))
			evSubs, evDetails = append(evSubs, e.SubType), append(evDetails, e.Details)
		}
	}
	rows, err := s.db.Statement.ConnPool.QueryContext(ctx, redeemPG, lookups, ats, ips, names, platforms, vias, tokens, actors,
		limiters, buckets, untils, evOrds, evTypes, evSubs, evDetails)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	outs := make([]*Redeemed, n)
	for rows.Next() {
		var ord int
		var admitted bool
		var codeID, accountID, userID sql.NullInt64
		var expires sql.NullTime
		var deviceID int64
		out := &Redeemed{User: &models.SDPUser{}, Account: &models.Account{}}
		c := &models.RegistrationCode{}
		if err := rows.Scan(&ord, &admitted, &codeID, &accountID, &userID, &expires, &c.UsedAt, &c.RevokedAt, &out.UserReady,
			&out.User.Email, &out.User.FirstName, &out.User.LastName, &deviceID, &out.Account.Name); err != nil {
			return nil, wrap(err)
		}
		if ord < 1 || ord > n {
			return nil, fmt.Errorf("store: redeem: a row for redemption %d of %d", ord, n)
		}
		r := rs[ord-1]
		switch {
		case !admitted:
			outs[ord-1] = &Redeemed{BudgetRefused: true}
		case !codeID.Valid:
			outs[ord-1] = &Redeemed{}
		default:
			c.ID, c.AccountID, c.SDPUserID, c.ExpiresAt, c.LookupHash = codeID.Int64, accountID.Int64, userID.Int64, expires.Time, r.LookupHash
			out.Code = c
			outs[ord-1] = s.won(out, r, deviceID)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err)
	}
	for i, out := range outs {
		if out == nil {
			return nil, fmt.Errorf("store: redeem: no row for redemption %d of %d", i+1, n)
		}
	}
	return outs, nil
}

// won completes out with the device, user and account of a redemption that got the code
// (deviceID not 0), whose events are written, or clears them.
func (s *Store) won(out *Redeemed, r Redemption, deviceID int64) *Redeemed {
	if deviceID == 0 {
		out.User, out.Account = nil, nil
		return out
	}
	s.eventsWritten()
	c := out.Code
	d := r.Device
	d.ID, d.AccountID, d.SDPUserID, d.RegisteredAt, d.LastSeenAt = deviceID, c.AccountID, c.SDPUserID, r.At, r.At
	out.Device = &d
	out.User.ID, out.User.AccountID = c.SDPUserID, c.AccountID
	out.Account.ID = c.AccountID
	return out
}

// writeRedemptionSQLite writes a redemption of out.Code on SQLite, inside tx's IMMEDIATE transaction
// (which holds the write lock from its start): count on the user's row while enabled without
// MFA, insert the device, use the code, insert both events in one statement. It returns the
// device's id, or 0 when the user is not ready (out.UserReady stays false; nothing written),
// or errLost when the code was used meanwhile.
func (s *Store) writeRedemptionSQLite(ctx context.Context, r Redemption, out *Redeemed) (int64, error) {
	db, c := s.db.Statement.ConnPool, out.Code
	err := db.QueryRowContext(ctx, `UPDATE sdp_users
		SET devices = devices + 1
		WHERE account_id = ? AND id = ? AND status = 'enabled' AND NOT mfa_configured
		RETURNING email, first_name, last_name`, c.AccountID, c.SDPUserID).
		Scan(&out.User.Email, &out.User.FirstName, &out.User.LastName)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	out.UserReady = true
	var deviceID int64
	err = db.QueryRowContext(ctx, `INSERT INTO devices
		(account_id, sdp_user_id, name, platform, registered_via, token_hash, registered_at, last_seen_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.AccountID, c.SDPUserID, r.Device.Name, r.Device.Platform, r.Device.RegisteredVia, r.Device.TokenHash, r.At, r.At).
		Scan(&deviceID)
	if err != nil {
		return 0, err
	}
	res, err := db.ExecContext(ctx, `UPDATE registration_codes SET used_at = ?, encrypted = '', used_ip = ?, device_id = ?
		WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?`, r.At, r.IP, deviceID, c.ID, r.At)
	if err != nil {
		return 0, err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return 0, errors.Join(errLost, err)
	}
	return deviceID, insertRedemptionEvents(ctx, db, r, out.User, c, deviceID)
}

// insertRedemptionEvents writes the events of a redemption in one INSERT (SQLite).
func insertRedemptionEvents(ctx context.Context, db gorm.ConnPool, r Redemption, u *models.SDPUser, c *models.RegistrationCode, deviceID int64) error {
	if len(r.Events) == 0 {
		return nil
	}
	q := `INSERT INTO events (account_id, occurred_at, type, sub_type, actor_type, actor_label, email, source_ip, details, sdp_user_id, device_id) VALUES `
	args := make([]any, 0, 11*len(r.Events))
	for i, e := range r.Events {
		if i > 0 {
			q += ", "
		}
		q += "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		args = append(args, c.AccountID, r.At, string(e.Type), e.SubType, string(e.ActorType), u.Email, u.Email, r.IP, e.Details, c.SDPUserID, deviceID)
	}
	_, err := db.ExecContext(ctx, q, args...)
	return err
}

// CodeByLookup loads a code by its lookup hash, whatever its state (a redemption that matched
// nothing says why with it). Not scoped by account: the hash of a 79-bit secret is the scope.
func (s *Store) CodeByLookup(ctx context.Context, lookupHash string) (*models.RegistrationCode, error) {
	return first[models.RegistrationCode](s.q(ctx).Where("lookup_hash = ?", lookupHash))
}
