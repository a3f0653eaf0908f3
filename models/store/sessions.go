package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"onramp/models"
)

// Console and portal sessions live in tables of the same shape that differ in the owner's
// column; sessionTable names both for a kind. The names are constants of this file, never
// input.
type sessionTable struct{ name, owner string }

func tableOf(k models.SessionKind) sessionTable {
	switch k {
	case models.ConsoleSession:
		return sessionTable{"admin_sessions", "admin_id"}
	case models.PortalSession:
		return sessionTable{"portal_sessions", "sdp_user_id"}
	}
	panic(fmt.Sprintf("store: no session kind %q", k))
}

// CreateSession inserts a session of a kind.
func (s *Store) CreateSession(ctx context.Context, k models.SessionKind, sess *models.Session) error {
	t := tableOf(k)
	return wrap(s.q(ctx).Exec("INSERT INTO "+t.name+" (id, "+t.owner+", created_at, last_seen_at, expires_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)",
		sess.ID, sess.OwnerID, sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt, sess.IP, sess.UserAgent).Error)
}

// Session loads a session of a kind by the hash of its token. Not scoped by account: the
// 256-bit token is the scope.
func (s *Store) Session(ctx context.Context, k models.SessionKind, id string) (*models.Session, error) {
	t := tableOf(k)
	return first[models.Session](s.q(ctx).Table(t.name).
		Select("id, "+t.owner+" AS owner_id, created_at, last_seen_at, expires_at, ip, user_agent").Where("id = ?", id))
}

// TouchSession records activity on a session.
func (s *Store) TouchSession(ctx context.Context, k models.SessionKind, id string, at time.Time) error {
	return wrap(s.q(ctx).Table(tableOf(k).name).Where("id = ?", id).Update("last_seen_at", at).Error)
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, k models.SessionKind, id string) error {
	return wrap(s.q(ctx).Exec("DELETE FROM "+tableOf(k).name+" WHERE id = ?", id).Error)
}

// DeleteOwnerSessions ends every session of an owner (an admin, or an SDP user) but keep (which
// may be "").
func (s *Store) DeleteOwnerSessions(ctx context.Context, k models.SessionKind, ownerID int64, keep string) error {
	t := tableOf(k)
	return wrap(s.q(ctx).Exec("DELETE FROM "+t.name+" WHERE "+t.owner+" = ? AND id <> ?", ownerID, keep).Error)
}

// DeleteOwnersSessions ends every session of the given owners.
func (s *Store) DeleteOwnersSessions(ctx context.Context, k models.SessionKind, ownerIDs []int64) error {
	if len(ownerIDs) == 0 {
		return nil
	}
	t := tableOf(k)
	return wrap(s.q(ctx).Exec("DELETE FROM "+t.name+" WHERE "+t.owner+" IN ?", ownerIDs).Error)
}

// DeleteExpiredSessions removes the sessions of a kind past their absolute or idle limit.
func (s *Store) DeleteExpiredSessions(ctx context.Context, k models.SessionKind, now time.Time, idle time.Duration) (int64, error) {
	res := s.q(ctx).Exec("DELETE FROM "+tableOf(k).name+" WHERE expires_at < ? OR last_seen_at < ?", now, now.Add(-idle))
	return res.RowsAffected, wrap(res.Error)
}

// consoleSession is a console session with its admin and the admin's account, as
// ConsoleSession reads them in one statement.
type consoleSession struct {
	models.Session
	Admin   models.Admin   `gorm:"embedded;embeddedPrefix:a__"`
	Account models.Account `gorm:"embedded;embeddedPrefix:c__"`
}

// consoleSessionSQL is ConsoleSession's statement: every column of the admin and of the
// account (from their models, so that a column added later comes along), prefixed.
func consoleSessionSQL(db *gorm.DB) (string, error) {
	cols := []string{"s.id, s.admin_id AS owner_id, s.created_at, s.last_seen_at, s.expires_at, s.ip, s.user_agent"}
	for _, t := range []struct {
		model any
		alias string
	}{{&models.Admin{}, "a"}, {&models.Account{}, "c"}} {
		sch, err := schema.Parse(t.model, &sync.Map{}, db.NamingStrategy)
		if err != nil {
			return "", err
		}
		for _, c := range sch.DBNames {
			cols = append(cols, t.alias+"."+c+" AS "+t.alias+"__"+c)
		}
	}
	return "SELECT " + strings.Join(cols, ", ") +
		" FROM admin_sessions s JOIN admins a ON a.id = s.admin_id JOIN accounts c ON c.id = a.account_id WHERE s.id = ?", nil
}

// ConsoleSession loads a console session by the hash of its token together with its admin and
// the admin's account, in one statement: every console request starts with it. Not scoped by
// account: the 256-bit token is the scope, and the account is the admin's own.
func (s *Store) ConsoleSession(ctx context.Context, id string) (*models.Session, *models.Admin, *models.Account, error) {
	var rows []consoleSession
	if err := s.q(ctx).Raw(s.consoleSessionSQL, id).Scan(&rows).Error; err != nil {
		return nil, nil, nil, wrap(err)
	}
	if len(rows) == 0 {
		return nil, nil, nil, models.ErrNotFound
	}
	r := &rows[0]
	return &r.Session, &r.Admin, &r.Account, nil
}
