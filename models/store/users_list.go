package store

import (
	"context"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"onramp/migrations"
	"onramp/models"
)

// UserFilter narrows the users list; zero values do not filter.
type UserFilter struct {
	Q            string // a part of the email or of the name ("first last"); under 3 characters, their prefix
	Status       models.UserStatus
	Origin       string
	Activation   models.Activation
	MFA          string // "yes", "no" or ""
	NeverHadCode bool
	Group        int64  // a directory group's id: its members only
	Sort         string // "newest" (default), "oldest", "name", "email"
}

// UserPage is one page of the users list.
type UserPage struct {
	Users []models.SDPUser
	// Next is the cursor of the following page, "" on the last one; Prev that of the page
	// before, "" on the first one.
	Next, Prev string
	// Matching is how many users match the filter, counted up to the cap ListUsers was given
	// plus one: past the cap it means "more than the cap".
	Matching int64
}

// Keyset says where a page of a keyset-paginated list starts: after a cursor (the next page),
// before one (the previous page), or at the top when both are "".
type Keyset struct {
	After, Before string
}

// substringMin is the shortest search that matches anywhere in an email or a name: pg_trgm's
// index needs a whole trigram, so a shorter one would read every row. Shorter searches match
// a prefix, which the b-tree indexes serve.
const substringMin = 3

// applyUserFilter adds the filter's conditions. Every condition is chosen so that an index
// serves it: a search of 3 characters or more matches anywhere (LIKE '%…%', served on PostgreSQL
// by the trigram indexes of migration 00017, a scan of the account's users on SQLite), a shorter
// one matches a prefix, as a range (or LIKE on PostgreSQL's pattern-ops indexes of migration
// 00002); a partial index serves MFA with the literal predicate it was created with, and the
// index of the codes by user "never had a code".
func (s *Store) applyUserFilter(q *gorm.DB, f UserFilter) *gorm.DB {
	if p := strings.ToLower(strings.TrimSpace(f.Q)); utf8.RuneCountInString(p) >= substringMin {
		like := "%" + escapeLike(p) + "%"
		q = q.Where(`(email LIKE ? ESCAPE '\' OR lower(first_name || ' ' || last_name) LIKE ? ESCAPE '\')`, like, like)
	} else if p != "" {
		lo, hi := p, p+"\U0010FFFF"
		if s.dialect == migrations.Postgres {
			like := escapeLike(p) + "%"
			q = q.Where("((email >= ? AND email < ?) OR lower(first_name) LIKE ? OR lower(last_name) LIKE ?)", lo, hi, like, like)
		} else {
			q = q.Where("((email >= ? AND email < ?) OR (lower(first_name) >= ? AND lower(first_name) < ?) OR (lower(last_name) >= ? AND lower(last_name) < ?))",
				lo, hi, lo, hi, lo, hi)
		}
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Origin != "" {
		q = q.Where("origin = ?", f.Origin)
	}
	switch f.Activation {
	case "":
	case models.ActivationRegistered:
		q = q.Where(registeredUsers)
	case models.ActivationActive:
		q = q.Where("activation = ?", f.Activation)
	default:
		// New and invited users with a device are Registered (models.SDPUser.Progress).
		q = q.Where("activation = ? AND devices = 0", f.Activation)
	}
	switch f.MFA {
	case "yes":
		q = q.Where(s.boolTrue("mfa_configured"))
	case "no":
		q = q.Where(s.boolFalse("mfa_configured"))
	}
	if f.NeverHadCode {
		q = q.Where(noCode)
	}
	if f.Group != 0 {
		// The outer query is the account's users, so another account's group matches none.
		q = q.Where("id IN (SELECT user_id FROM directory_group_members WHERE group_id = ?)", f.Group)
	}
	return q
}

// noCode is "never had a code": the user has no code (codes are only deleted with their user).
// The planners make it an anti-join, which counts a million users faster than a lookup per
// user (noCodeOf) would.
const noCode = "NOT EXISTS (SELECT 1 FROM registration_codes c WHERE c.account_id = sdp_users.account_id AND c.sdp_user_id = sdp_users.id)"

// registeredUsers is models.SDPUser.Progress's Registered, written as the predicate of migration
// 00016's partial index, literally: a bound parameter would keep the planners from using it.
const registeredUsers = "activation <> 'active' AND devices > 0"

func (s *Store) boolTrue(col string) string {
	if s.dialect == migrations.Postgres {
		return col
	}
	return col + " = 1"
}

func (s *Store) boolFalse(col string) string {
	if s.dialect == migrations.Postgres {
		return "NOT " + col
	}
	return col + " = 0"
}

// escapeLike makes LIKE's wildcards plain characters (with ESCAPE '\', PostgreSQL's default).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// keyOrder is a keyset order: by a key column then id (key "" orders by id alone), ascending or
// descending. Each has an index (account_id, key, id) that seeks to a cursor in either direction.
type keyOrder struct {
	key string
	asc bool
}

// userOrders are the Users list's orders by the filter's Sort.
var userOrders = map[string]keyOrder{"": {"", false}, "newest": {"", false}, "oldest": {"", true}, "name": {"name_key", true}, "email": {"email", true}}

// seek narrows q to the rows past a cursor (key, id) in the order, or before it with backwards,
// and orders q so that the nearest rows come first.
func (o keyOrder) seek(q *gorm.DB, key string, id int64, hasCursor, backwards bool) *gorm.DB {
	up := o.asc != backwards
	op, dir := "<", " DESC"
	if up {
		op, dir = ">", ""
	}
	if hasCursor {
		if o.key == "" {
			q = q.Where("id "+op+" ?", id)
		} else {
			// A row-value comparison, so that the (account_id, key, id) index seeks to it.
			q = q.Where("("+o.key+", id) "+op+" (?, ?)", key, id)
		}
	}
	if o.key != "" {
		q = q.Order(o.key + dir)
	}
	return q.Order("id" + dir)
}

// ListUsers returns a page of an account's users in the filter's order, after or before a
// cursor (keyset pagination: the cost of a page does not grow with its depth), and how many
// match, counted up to countCap+1.
func (s *Store) ListUsers(ctx context.Context, accountID int64, f UserFilter, at Keyset, limit, countCap int) (UserPage, error) {
	base := func() *gorm.DB {
		return s.applyUserFilter(s.q(ctx).Table("sdp_users").Where("account_id = ?", accountID), f)
	}
	n, err := countUpTo(s.q(ctx), base(), countCap+1)
	if err != nil {
		return UserPage{}, err
	}
	if utf8.RuneCountInString(strings.TrimSpace(f.Q)) >= substringMin {
		base = s.fenceFew(ctx, base, "sdp_users", n, countCap)
	}
	// A list has no use for the users' secrets: leaving them out spares reading and scanning them.
	page := func() *gorm.DB { return base().Select(listedUserColumns + ", " + userCodes) }
	rows, next, prev, err := keysetPage(page, userOrders[f.Sort], at, limit, func(u *models.SDPUser) string { return userCursor(f.Sort, u) },
		func(q *gorm.DB) ([]models.SDPUser, error) { return scanListedUsers(q, limit+1) })
	return UserPage{Users: rows, Next: next, Prev: prev, Matching: n}, err
}

// listedUserColumns are the columns of sdp_users a list shows: all but the secrets.
const listedUserColumns = `sdp_users.id, sdp_users.account_id, first_name, last_name, email, phone, origin, directory_id,
	external_id, user_name, status, activation, mfa_configured, name_key, devices, sdp_users.created_at, sdp_users.updated_at`

// scanListedUsers reads the users of a list (listedUserColumns then userCodes, in that order)
// by hand: GORM's reflection-based Scan of 51 users took half of the Users page's own time. The
// page reads at most capacity users.
func scanListedUsers(q *gorm.DB, capacity int) ([]models.SDPUser, error) {
	rows, err := q.Rows()
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	out := make([]models.SDPUser, 0, capacity)
	for rows.Next() {
		var u models.SDPUser
		if err := rows.Scan(&u.ID, &u.AccountID, &u.FirstName, &u.LastName, &u.Email, &u.Phone, &u.Origin, &u.DirectoryID,
			&u.ExternalID, &u.UserName, &u.Status, &u.Activation, &u.MFAConfigured, &u.NameKey, &u.Devices, &u.CreatedAt, &u.UpdatedAt,
			&u.HadCode, &u.ActiveCodes); err != nil {
			return nil, wrap(err)
		}
		out = append(out, u)
	}
	return out, wrap(rows.Err())
}

// findAll reads q's rows through GORM.
func findAll[T any](q *gorm.DB) ([]T, error) {
	var rows []T
	return rows, wrap(q.Find(&rows).Error)
}

// countUpTo counts q's rows, stopping at limit: it reads at most limit index entries or rows
// however many match, where a plain COUNT would read a million on every page view.
func countUpTo(db, q *gorm.DB, limit int) (int64, error) {
	var n int64
	err := db.Raw("SELECT COUNT(*) FROM (?) AS matching", q.Select("1").Limit(limit)).Scan(&n).Error
	return n, wrap(err)
}

// fenceFew makes a substring search that matches at most capAt rows (n, counted) read its
// matches through the trigram indexes on PostgreSQL, then sort them. Left alone, the planner
// may walk the order's index and test every row instead, betting on a guess of how many rows
// match: a search that matches none then reads a million users (5 seconds). A subquery with a
// LIMIT is planned on its own; the LIMIT (above n) changes no result.
func (s *Store) fenceFew(ctx context.Context, base func() *gorm.DB, table string, n int64, capAt int) func() *gorm.DB {
	if s.dialect != migrations.Postgres || n > int64(capAt) {
		return base
	}
	return func() *gorm.DB { return s.q(ctx).Table("(?) AS "+table, base().Limit(capAt+1)) }
}

// keysetPage reads, with find, the page of base's rows in order o that at points to, and the
// cursors of the pages after and before it ("" when there is none). A page before a cursor that
// is not full any more (rows were deleted) is the first page.
func keysetPage[T any](base func() *gorm.DB, o keyOrder, at Keyset, limit int, cursor func(*T) string,
	find func(*gorm.DB) ([]T, error)) (rows []T, next, prev string, err error) {
	backwards := at.Before != "" && at.After == ""
	from := at.After
	if backwards {
		from = at.Before
	}
	key, id, hasCursor := decodeCursor(from)
	backwards = backwards && hasCursor
	if rows, err = find(o.seek(base(), key, id, hasCursor, backwards).Limit(limit + 1)); err != nil {
		return nil, "", "", err
	}
	more := len(rows) > limit
	rows = rows[:min(len(rows), limit)]
	if backwards {
		if len(rows) < limit {
			return keysetPage(base, o, Keyset{}, limit, cursor, find)
		}
		slices.Reverse(rows)
		if more {
			prev = cursor(&rows[0])
		}
		return rows, cursor(&rows[len(rows)-1]), prev, nil
	}
	if more {
		next = cursor(&rows[len(rows)-1])
	}
	if hasCursor && len(rows) > 0 {
		prev = cursor(&rows[0])
	}
	return rows, next, prev, nil
}

// userCursor is the cursor of a user's place in an order: the id alone for the id orders, the
// sort key and the id for the others.
func userCursor(sort string, u *models.SDPUser) string {
	switch sort {
	case "name":
		return EncodeCursor(u.NameKey, u.ID)
	case "email":
		return EncodeCursor(u.Email, u.ID)
	}
	return strconv.FormatInt(u.ID, 10)
}

// EncodeCursor packs a sort key and an id into a URL-safe string.
func EncodeCursor(key string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(key + "\n" + strconv.FormatInt(id, 10)))
}

// decodeCursor reads a cursor: a bare id, or a key and an id. A malformed cursor is ignored
// (the first page is shown) rather than an error, since it only ever comes from our own links.
func decodeCursor(s string) (string, int64, bool) {
	if s == "" {
		return "", 0, false
	}
	if id, err := strconv.ParseInt(s, 10, 64); err == nil {
		return "", id, true
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", 0, false
	}
	key, idStr, ok := strings.Cut(string(b), "\n")
	id, err := strconv.ParseInt(idStr, 10, 64)
	if !ok || err != nil {
		return "", 0, false
	}
	return key, id, true
}

// CountUsers counts an account's users matching a filter (for confirmations, not page views).
func (s *Store) CountUsers(ctx context.Context, accountID int64, f UserFilter) (int64, error) {
	var n int64
	err := s.applyUserFilter(s.q(ctx).Model(&models.SDPUser{}).Where("account_id = ?", accountID), f).Count(&n).Error
	return n, wrap(err)
}

// SummarizeUsers counts an account's users matching a filter and their VPN devices, in one
// pass (for confirmations, not page views).
func (s *Store) SummarizeUsers(ctx context.Context, accountID int64, f UserFilter) (users, devices int64, err error) {
	var row struct{ Users, Devices int64 }
	err = s.applyUserFilter(s.q(ctx).Model(&models.SDPUser{}).Where("account_id = ?", accountID), f).
		Select("COUNT(*) AS users, COALESCE(SUM(devices), 0) AS devices").Scan(&row).Error
	return row.Users, row.Devices, wrap(err)
}

// UserIDsMatching returns up to limit ids of users matching the filter with id above after, in
// id order: how bulk actions walk "all matching the filter" in batches.
func (s *Store) UserIDsMatching(ctx context.Context, accountID int64, f UserFilter, after int64, limit int) ([]int64, error) {
	var ids []int64
	err := s.applyUserFilter(s.q(ctx).Model(&models.SDPUser{}).Where("account_id = ? AND id > ?", accountID, after), f).
		Order("id").Limit(limit).Pluck("id", &ids).Error
	return ids, wrap(err)
}

// UsersByIDs loads the account's users among ids (others' ids are silently not found), locking
// them for the rest of the transaction on PostgreSQL.
func (s *Store) UsersByIDs(ctx context.Context, accountID int64, ids []int64) ([]models.SDPUser, error) {
	var rows []models.SDPUser
	q := withCodes(s.q(ctx)).Where("account_id = ? AND id IN ?", accountID, ids).Order("id")
	if s.dialect == migrations.Postgres {
		q = q.Clauses(lockForUpdate)
	}
	return rows, wrap(q.Find(&rows).Error)
}

// updateUsers sets columns on the account's users among ids, planned for them (planEachTime):
// bulk work (a directory's first sync, a Users action) updates users a batch at a time.
func (s *Store) updateUsers(ctx context.Context, accountID int64, ids []int64, cols map[string]any) error {
	if len(ids) == 0 {
		return nil
	}
	cols["updated_at"] = nowUTC()
	in, arg := s.inIDs("id", ids)
	return s.planEachTime(ctx, len(ids), func() error {
		return wrap(s.q(ctx).Model(&models.SDPUser{}).Where("account_id = ? AND "+in, accountID, arg).Updates(cols).Error)
	})
}

// MarkUsersInvited records that the account's users among ids were sent an invitation.
func (s *Store) MarkUsersInvited(ctx context.Context, accountID int64, ids []int64) error {
	return s.updateUsers(ctx, accountID, ids, map[string]any{"activation": models.ActivationInvitationSent})
}

// ClearUsersPasswords clears the passwords of the account's users among ids, who are back to
// "new" and must activate again.
func (s *Store) ClearUsersPasswords(ctx context.Context, accountID int64, ids []int64) error {
	return s.updateUsers(ctx, accountID, ids, map[string]any{"password_hash": "", "activation": models.ActivationNew})
}

// SetUsersStatus enables or disables the account's users among ids.
func (s *Store) SetUsersStatus(ctx context.Context, accountID int64, ids []int64, st models.UserStatus) error {
	return s.updateUsers(ctx, accountID, ids, map[string]any{"status": st})
}

// DeleteUsers deletes the account's users among ids (their tokens and sessions go with them).
func (s *Store) DeleteUsers(ctx context.Context, accountID int64, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	s.originsChanged(accountID)
	return wrap(s.q(ctx).Where("account_id = ? AND id IN ?", accountID, ids).Delete(&models.SDPUser{}).Error)
}

// CountMFAUsers counts an account's users with MFA configured.
func (s *Store) CountMFAUsers(ctx context.Context, accountID int64) (int64, error) {
	return s.CountUsers(ctx, accountID, UserFilter{MFA: "yes"})
}

// UserOrigins lists the distinct origins of an account's users, for the filter menu. It may
// be pageCacheTTL old: users of a new origin arrive from another server now and then, and the
// menu is read on every Users page.
func (s *Store) UserOrigins(ctx context.Context, accountID int64) ([]string, error) {
	if out, ok := s.caches.origins.get(accountID); ok {
		return out, nil
	}
	out, err := s.distinct(ctx, "sdp_users", "origin", accountID)
	if err == nil {
		s.caches.origins.put(accountID, out)
	}
	return out, err
}

// originsChanged drops the cached origins of an account whose users are created or deleted.
func (s *Store) originsChanged(accountID int64) {
	s.changed(func() { s.caches.origins.forget(accountID) })
}

// distinct lists up to 50 distinct values of a column of an account's rows of a table (both
// constants of this package), for a filter menu. A plain DISTINCT would read every row; this
// recursive query hops along the (account_id, col) index, one seek per value, so its cost does
// not grow with the number of rows.
func (s *Store) distinct(ctx context.Context, table, col string, accountID int64) ([]string, error) {
	var out []string
	err := s.q(ctx).Raw(`WITH RECURSIVE o(v) AS (
		SELECT (SELECT `+col+` FROM `+table+` WHERE account_id = ? ORDER BY `+col+` LIMIT 1)
		UNION ALL
		SELECT (SELECT `+col+` FROM `+table+` WHERE account_id = ? AND `+col+` > o.v ORDER BY `+col+` LIMIT 1)
		FROM o WHERE o.v IS NOT NULL
	) SELECT v FROM o WHERE v IS NOT NULL LIMIT 50`, accountID, accountID).Scan(&out).Error
	return out, wrap(err)
}
