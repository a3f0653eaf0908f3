package store

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"onramp/migrations"
	"onramp/models"
)

// UserFilter narrows the users list; zero values do not filter.
type UserFilter struct {
	Q            string // prefix of the email, first name or last name
	Status       models.UserStatus
	Origin       string
	Activation   models.Activation
	MFA          string // "yes", "no" or ""
	NeverHadCode bool
	Sort         string // "newest" (default), "oldest", "name", "email"
}

// UserPage is one page of the users list.
type UserPage struct {
	Users []models.SDPUser
	// Next is the cursor of the following page, "" on the last one.
	Next string
}

// applyUserFilter adds the filter's conditions. Every condition is chosen so that an index of
// migration 00002 serves it: prefix search as a range (or LIKE on PostgreSQL's pattern-ops
// indexes), partial indexes for MFA and "never had a code" with the literal predicates they were
// created with.
func (s *Store) applyUserFilter(q *gorm.DB, f UserFilter) *gorm.DB {
	if p := strings.ToLower(strings.TrimSpace(f.Q)); p != "" {
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
		q = q.Where(s.boolFalse("had_code"))
	}
	return q
}

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

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ListUsers returns a page of an account's users in the filter's order, after the cursor
// (keyset pagination: the cost of a page does not grow with its depth).
func (s *Store) ListUsers(ctx context.Context, accountID int64, f UserFilter, after string, limit int) (UserPage, error) {
	q := s.applyUserFilter(s.q(ctx).Where("account_id = ?", accountID), f)
	key, id, hasCursor := decodeCursor(after)
	switch f.Sort {
	case "oldest":
		if hasCursor {
			q = q.Where("id > ?", id)
		}
		q = q.Order("id")
	case "name":
		if hasCursor {
			// A row-value comparison, so that the (account_id, name_key, id) index seeks to it.
			q = q.Where("(name_key, id) > (?, ?)", key, id)
		}
		q = q.Order("name_key").Order("id")
	case "email":
		if hasCursor {
			q = q.Where("(email, id) > (?, ?)", key, id)
		}
		q = q.Order("email").Order("id")
	default:
		if hasCursor {
			q = q.Where("id < ?", id)
		}
		q = q.Order("id DESC")
	}
	var rows []models.SDPUser
	if err := q.Limit(limit + 1).Find(&rows).Error; err != nil {
		return UserPage{}, wrap(err)
	}
	page := UserPage{Users: rows}
	if len(rows) > limit {
		page.Users = rows[:limit]
		last := rows[limit-1]
		switch f.Sort {
		case "name":
			page.Next = EncodeCursor(last.NameKey, last.ID)
		case "email":
			page.Next = EncodeCursor(last.Email, last.ID)
		default:
			page.Next = strconv.FormatInt(last.ID, 10)
		}
	}
	return page, nil
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
	q := s.q(ctx).Where("account_id = ? AND id IN ?", accountID, ids).Order("id")
	if s.dialect == migrations.Postgres {
		q = q.Clauses(lockForUpdate)
	}
	return rows, wrap(q.Find(&rows).Error)
}

// updateUsers sets columns on the account's users among ids.
func (s *Store) updateUsers(ctx context.Context, accountID int64, ids []int64, cols map[string]any) error {
	if len(ids) == 0 {
		return nil
	}
	cols["updated_at"] = nowUTC()
	return wrap(s.q(ctx).Model(&models.SDPUser{}).Where("account_id = ? AND id IN ?", accountID, ids).Updates(cols).Error)
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
	return wrap(s.q(ctx).Where("account_id = ? AND id IN ?", accountID, ids).Delete(&models.SDPUser{}).Error)
}

// CountMFAUsers counts an account's users with MFA configured.
func (s *Store) CountMFAUsers(ctx context.Context, accountID int64) (int64, error) {
	return s.CountUsers(ctx, accountID, UserFilter{MFA: "yes"})
}

// UserOrigins lists the distinct origins of an account's users, for the filter menu. A plain
// DISTINCT would read every user; this recursive query hops along the (account_id, origin)
// index, one seek per origin, so its cost does not grow with the number of users.
func (s *Store) UserOrigins(ctx context.Context, accountID int64) ([]string, error) {
	var out []string
	err := s.q(ctx).Raw(`WITH RECURSIVE o(origin) AS (
		SELECT (SELECT origin FROM sdp_users WHERE account_id = ? ORDER BY origin LIMIT 1)
		UNION ALL
		SELECT (SELECT origin FROM sdp_users WHERE account_id = ? AND origin > o.origin ORDER BY origin LIMIT 1)
		FROM o WHERE o.origin IS NOT NULL
	) SELECT origin FROM o WHERE origin IS NOT NULL LIMIT 50`, accountID, accountID).Scan(&out).Error
	return out, wrap(err)
}
