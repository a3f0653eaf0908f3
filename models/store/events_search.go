package store

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"onramp/migrations"
	"onramp/models"
)

// EventFilter narrows an account's events (Event Discovery); zero values do not filter.
type EventFilter struct {
	From, To    time.Time // From ≤ occurred_at < To
	Type        models.EventType
	SubType     string
	UserID      int64  // the SDP user the event is about
	UserEmail   string // the email the event is about, exactly (emails are stored lowercased)
	ActorType   models.ActorType
	Actor       string // the actor's label (an admin's or user's email), exactly
	EmailPrefix string // free text: the start of the email, lowercased
}

// narrowsBeyondKinds reports whether the filter has conditions other than time and kind: the
// per-kind index then no longer answers the counts alone.
func (f EventFilter) narrowsBeyondKinds() bool {
	return f.UserID != 0 || f.UserEmail != "" || f.ActorType != "" || f.Actor != "" || f.EmailPrefix != ""
}

// EventPage is one page of events, newest first.
type EventPage struct {
	Events []models.Event
	// Next is the cursor of the following page, "" on the last one.
	Next string
}

// applyEventFilter adds the filter's conditions. Each one matches a leading column of an index of
// migrations 00001, 00002 or 00006, all of which end in (occurred_at DESC, id DESC).
func (s *Store) applyEventFilter(q *gorm.DB, accountID int64, f EventFilter) *gorm.DB {
	q = q.Where("account_id = ?", accountID)
	if !f.From.IsZero() {
		q = q.Where("occurred_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("occurred_at < ?", f.To.UTC())
	}
	if f.Type != "" {
		q = q.Where("type = ?", f.Type)
	}
	if f.SubType != "" {
		q = q.Where("sub_type = ?", f.SubType)
	}
	if f.UserID != 0 {
		q = q.Where("sdp_user_id = ?", f.UserID)
	}
	if f.UserEmail != "" {
		q = q.Where("email = ?", f.UserEmail)
	}
	if f.ActorType != "" {
		q = q.Where("actor_type = ?", f.ActorType)
	}
	if f.Actor != "" {
		q = q.Where("actor_label = ?", f.Actor)
	}
	if p := strings.ToLower(f.EmailPrefix); p != "" {
		if s.dialect == migrations.Postgres {
			// LIKE with a literal prefix becomes a range on the text_pattern_ops index.
			q = q.Where("email LIKE ?", escapeLike(p)+"%")
		} else {
			q = q.Where("email >= ? AND email < ?", p, p+"\U0010FFFF")
		}
	}
	return q
}

// customPlans runs fn with PostgreSQL planning each statement for its actual parameters. pgx
// prepares and caches statements, and after five runs PostgreSQL may settle on one generic plan
// for every parameter value: for these filters such a plan cannot use a prefix or a time range
// (a generic plan of email LIKE $1 reads the whole week instead of the prefix's rows: 10 ms
// became 200 ms at a million events). SQLite has no plan cache (and a transaction there takes
// the write lock), so fn runs as it is.
func (s *Store) customPlans(ctx context.Context, fn func(s *Store) error) error {
	if s.dialect != migrations.Postgres {
		return fn(s)
	}
	return s.Tx(ctx, func(tx *Store) error {
		if err := tx.q(ctx).Exec("SET LOCAL plan_cache_mode = force_custom_plan").Error; err != nil {
			return err
		}
		return fn(tx)
	})
}

// SearchEvents returns a page of an account's events matching the filter, newest first, after
// the cursor. The cursor is (occurred_at, id) and is compared as a row value, so that the page
// is a seek into the index whatever its depth.
func (s *Store) SearchEvents(ctx context.Context, accountID int64, f EventFilter, after string, limit int) (EventPage, error) {
	var rows []models.Event
	err := s.customPlans(ctx, func(s *Store) error {
		q := s.applyEventFilter(s.q(ctx), accountID, f)
		if t, id, ok := decodeEventCursor(after); ok {
			q = q.Where("(occurred_at, id) < (?, ?)", t, id)
		}
		var err error
		rows, err = scanEvents(q.Order("occurred_at DESC").Order("id DESC").Limit(limit+1), limit+1)
		return err
	})
	if err != nil {
		return EventPage{}, wrap(err)
	}
	page := EventPage{Events: rows}
	if len(rows) > limit {
		page.Events = rows[:limit]
		page.Next = EventCursor(rows[limit-1])
	}
	return page, nil
}

// eventColumns are every column of an event, in the order scanEvents reads them.
const eventColumns = "id, account_id, occurred_at, type, sub_type, actor_type, actor_id, actor_label, email, sdp_user_id, device_id, source_ip, details"

// scanEvents reads q's events (at most capacity) by hand: GORM's reflection-based Scan of an
// Events page's 51 rows took a third of the page's own time (the Events page benchmark's
// -cpuprofile).
func scanEvents(q *gorm.DB, capacity int) ([]models.Event, error) {
	rows, err := q.Model(&models.Event{}).Select(eventColumns).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]models.Event, 0, capacity)
	for rows.Next() {
		var e models.Event
		if err := rows.Scan(&e.ID, &e.AccountID, &e.OccurredAt, &e.Type, &e.SubType, &e.ActorType, &e.ActorID, &e.ActorLabel,
			&e.Email, &e.SDPUserID, &e.DeviceID, &e.SourceIP, &e.Details); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// EventCursor is the position just after e in the newest-first order.
func EventCursor(e models.Event) string {
	return EncodeCursor(e.OccurredAt.UTC().Format(time.RFC3339Nano), e.ID)
}

// decodeEventCursor reads a cursor of EventCursor. A malformed one is ignored (the first page is
// shown): cursors only come from our own links.
func decodeEventCursor(s string) (time.Time, int64, bool) {
	key, id, ok := decodeCursor(s)
	if !ok || key == "" {
		return time.Time{}, 0, false
	}
	t, err := time.Parse(time.RFC3339Nano, key)
	if err != nil {
		return time.Time{}, 0, false
	}
	return t.UTC(), id, true
}

// EachEvent walks every event matching the filter, newest first, in batches of size rows: one
// keyset query per batch, so that memory stays flat however many rows there are.
func (s *Store) EachEvent(ctx context.Context, accountID int64, f EventFilter, size int, fn func([]models.Event) error) error {
	after := ""
	for {
		page, err := s.SearchEvents(ctx, accountID, f, after, size)
		if err != nil {
			return err
		}
		if len(page.Events) > 0 {
			if err := fn(page.Events); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		after = page.Next
	}
}

// Event loads one event of an account.
func (s *Store) Event(ctx context.Context, accountID, id int64) (*models.Event, error) {
	return first[models.Event](s.q(ctx).Where("account_id = ? AND id = ?", accountID, id))
}

// EventKind is a type and sub-type with how many events of the filter have it.
type EventKind struct {
	Type    models.EventType
	SubType string
	// N is the count, at most the cap given plus one: more than the cap means "cap+".
	N int64
}

// EventKinds lists every (type, sub-type) an account's events have, in order. A DISTINCT would
// read every event; this recursive query hops along the (account_id, type, sub_type, …) index,
// a few seeks per kind, so its cost does not grow with the number of events. Each hop is the
// next sub-type of the same type or else the first of the next type, rather than one row-value
// comparison (type, sub_type) > (…): SQLite seeks on type alone for that and then walks every
// event of the type (13 s at 10,000,000 events, against 8 ms this way).
func (s *Store) EventKinds(ctx context.Context, accountID int64) ([]EventKind, error) {
	const (
		nextSub  = `(SELECT e.sub_type FROM events e WHERE e.account_id = @a AND e.type = k.type AND e.sub_type > k.sub_type ORDER BY e.sub_type LIMIT 1)`
		nextType = `(SELECT e.type FROM events e WHERE e.account_id = @a AND e.type > k.type ORDER BY e.type LIMIT 1)`
	)
	var out []EventKind
	err := s.q(ctx).Raw(`WITH RECURSIVE k(type, sub_type) AS (
	SELECT f.t, (SELECT e.sub_type FROM events e WHERE e.account_id = @a AND e.type = f.t ORDER BY e.sub_type LIMIT 1)
	FROM (SELECT (SELECT e.type FROM events e WHERE e.account_id = @a ORDER BY e.type LIMIT 1) AS t) f
	UNION ALL
	SELECT CASE WHEN `+nextSub+` IS NOT NULL THEN k.type ELSE `+nextType+` END,
	       COALESCE(`+nextSub+`, (SELECT e.sub_type FROM events e WHERE e.account_id = @a AND e.type = `+nextType+` ORDER BY e.sub_type LIMIT 1))
	FROM k WHERE k.type IS NOT NULL
) SELECT type, sub_type FROM k WHERE type IS NOT NULL LIMIT 500`, map[string]any{"a": accountID}).Scan(&out).Error
	return out, wrap(err)
}

// CountEventKinds counts the events of the filter per (type, sub-type), each count stopping at
// limit+1, and reports whether those counts are exact or lower bounds. kinds are the account's
// kinds (EventKinds).
//
// With only time and kind conditions (the common case, and the one over the most rows), each
// kind the filter allows is counted on its own with an index-only range scan of the
// (account_id, type, sub_type, occurred_at) index that stops at limit+1: a count above limit is
// shown as "limit+" and the others are exact, so the work is bounded by kinds × limit however
// wide the time range. Other conditions (user, actor, email) select fewer rows through their own
// index: the first limit+1 matching rows are grouped, and past that the counts are lower bounds
// (exact is false).
func (s *Store) CountEventKinds(ctx context.Context, accountID int64, f EventFilter, limit int, kinds []EventKind) (counts []EventKind, exact bool, err error) {
	if f.narrowsBeyondKinds() {
		err := s.customPlans(ctx, func(s *Store) error {
			sub := s.applyEventFilter(s.q(ctx).Model(&models.Event{}).Select("type, sub_type"), accountID, f).Limit(limit + 1)
			return s.q(ctx).Table("(?) AS m", sub).Select("type, sub_type, COUNT(*) AS n").
				Group("type, sub_type").Order("type, sub_type").Scan(&counts).Error
		})
		if err != nil {
			return nil, false, wrap(err)
		}
		var total int64
		for _, k := range counts {
			total += k.N
		}
		return counts, total <= int64(limit), nil
	}
	// One statement: a branch per kind, each a capped count.
	var (
		branches []string
		args     []any
	)
	for _, k := range kinds {
		if (f.Type != "" && k.Type != f.Type) || (f.SubType != "" && k.SubType != f.SubType) {
			continue
		}
		cond := "account_id = ? AND type = ? AND sub_type = ?"
		args = append(args, string(k.Type), k.SubType, accountID, string(k.Type), k.SubType)
		if !f.From.IsZero() {
			cond += " AND occurred_at >= ?"
			args = append(args, f.From.UTC())
		}
		if !f.To.IsZero() {
			cond += " AND occurred_at < ?"
			args = append(args, f.To.UTC())
		}
		args = append(args, limit+1)
		branches = append(branches, "SELECT ? AS type, ? AS sub_type, (SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE "+cond+" LIMIT ?) c) AS n")
	}
	if len(branches) == 0 {
		return nil, true, nil
	}
	var all []EventKind
	if err := s.q(ctx).Raw(strings.Join(branches, " UNION ALL "), args...).Scan(&all).Error; err != nil {
		return nil, false, wrap(err)
	}
	for _, k := range all {
		if k.N > 0 {
			counts = append(counts, k)
		}
	}
	return counts, true, nil
}
