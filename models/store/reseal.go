package store

import (
	"context"
	"errors"
	"fmt"
)

// SealedKind is a kind of value kept sealed under ONRAMP_SECRET (onramp secret reseal).
type SealedKind int

// The kinds of sealed values, in the order the reseal goes through them.
const (
	SealedCodes SealedKind = iota
	SealedAdminTOTP
	SealedUserTOTP
	SealedLDAPPassword
	SealedSSOSecret
	SealedStreamSecret
)

// SealedKinds lists every kind.
var SealedKinds = []SealedKind{SealedCodes, SealedAdminTOTP, SealedUserTOTP, SealedLDAPPassword, SealedSSOSecret, SealedStreamSecret}

// sealedColumns says where a kind lives: its table, the row's id, the account its associated
// data names, the sealed value and, for codes, the lookup hash derived from the same secret.
type sealedColumns struct{ table, id, account, value, lookup string }

var sealedAt = map[SealedKind]sealedColumns{
	SealedCodes:        {"registration_codes", "id", "account_id", "encrypted", "lookup_hash"},
	SealedAdminTOTP:    {"admins", "id", "0", "totp_secret", ""},
	SealedUserTOTP:     {"sdp_users", "id", "account_id", "totp_secret", ""},
	SealedLDAPPassword: {"directory_ldap", "directory_id", "account_id", "password_sealed", ""},
	SealedSSOSecret:    {"sso_settings", "account_id", "account_id", "secret_sealed", ""},
	SealedStreamSecret: {"stream_destinations", "id", "account_id", "secret_sealed", ""},
}

// Sealed is one sealed value: the row's id (for SSO settings, the account's), the account its
// associated data names (0 for admins), the value and, for codes, the lookup hash.
type Sealed struct {
	ID, AccountID int64
	Value, Lookup string
}

// Resealed counts a kind's rows that Reseal rewrote, and those that open under neither secret
// (left as they are).
type Resealed struct{ Rewritten, Unreadable int }

// ErrUnreadable is what Reseal's fn returns for a value that opens under neither secret.
var ErrUnreadable = errors.New("sealed value opens under neither secret")

// ResealBatch is the number of rows Reseal reads and writes in one transaction.
const ResealBatch = 500

// Reseal passes every non-empty sealed value of kind to fn, in id order, ResealBatch rows to a
// short transaction, and stores the value (and lookup hash) fn returns when it says they
// changed, unless the row's sealed value changed meanwhile (a running server wrote it under
// the current key).
func (s *Store) Reseal(ctx context.Context, kind SealedKind, fn func(Sealed) (Sealed, bool, error)) (Resealed, error) {
	c := sealedAt[kind]
	lookup := "''"
	if c.lookup != "" {
		lookup = c.lookup
	}
	read := fmt.Sprintf("SELECT %s AS id, %s AS account_id, %s AS value, %s AS lookup FROM %s WHERE %[1]s > ? AND %[3]s <> '' ORDER BY %[1]s LIMIT ?",
		c.id, c.account, c.value, lookup, c.table)
	write := fmt.Sprintf("UPDATE %s SET %s = ? WHERE %s = ? AND %[2]s = ?", c.table, c.value, c.id)
	if c.lookup != "" {
		write = fmt.Sprintf("UPDATE %s SET %s = ?, %s = ? WHERE %s = ? AND %[2]s = ?", c.table, c.value, c.lookup, c.id)
	}
	var done Resealed
	for after, more := int64(0), true; more; {
		err := s.Tx(ctx, func(tx *Store) error {
			var rows []Sealed
			unreadable := 0
			if err := tx.q(ctx).Raw(read, after, ResealBatch).Scan(&rows).Error; err != nil {
				return err
			}
			more = len(rows) == ResealBatch
			for _, r := range rows {
				after = r.ID
				next, changed, err := fn(r)
				if errors.Is(err, ErrUnreadable) {
					unreadable++
					continue
				}
				if err != nil {
					return err
				}
				if !changed {
					continue
				}
				args := []any{next.Value, r.ID, r.Value}
				if c.lookup != "" {
					args = []any{next.Value, next.Lookup, r.ID, r.Value}
				}
				res := tx.q(ctx).Exec(write, args...)
				if res.Error != nil {
					return res.Error
				}
				done.Rewritten += int(res.RowsAffected)
			}
			done.Unreadable += unreadable
			return nil
		})
		if err != nil {
			return done, wrap(err)
		}
	}
	return done, nil
}
