package store

import (
	"context"
	"database/sql"
	"errors"

	"onramp/migrations"
)

// SharesRateLimits: on PostgreSQL every replica uses the same buckets (ratelimit.Store); the
// embedded SQLite database has one process, which keeps them in memory.
func (s *Store) SharesRateLimits() bool { return s.dialect == migrations.Postgres }

// RateCheck admits work within a shared failure budget inside the work's own statement: the
// bucket of Key in Limiter's rows is full again at Until (Unix nanoseconds) at the latest, or
// has no row (ratelimit.Check).
type RateCheck struct {
	Limiter, Key string
	Until        int64
}

// TakeRateToken takes a token of a shared bucket in one statement: the upsert's condition
// reads and moves the bucket under its row lock, so concurrent takes on any instance queue on
// that row alone and every one sees the others' tokens.
func (s *Store) TakeRateToken(ctx context.Context, limiter, key string, now, every, limit int64) (int64, bool, error) {
	var fullAt []int64
	err := s.q(ctx).Raw(`INSERT INTO rate_limits (limiter, bucket, full_at) VALUES (?, ?, ?)
		ON CONFLICT (limiter, bucket) DO UPDATE
		SET full_at = CASE WHEN rate_limits.full_at > ? THEN rate_limits.full_at ELSE ? END + ?
		WHERE rate_limits.full_at - ? <= ?
		RETURNING full_at`, limiter, key, now+every, now, now, every, now, limit).Scan(&fullAt).Error
	if err != nil {
		return 0, false, wrap(err)
	}
	if len(fullAt) == 1 {
		return fullAt[0], true, nil
	}
	// Refused: the bucket's time says how long until a token (none: purged meanwhile, full).
	at, err := s.RateBucket(ctx, limiter, key)
	return at, false, err
}

// RateBucket reads a shared bucket's full-again time, 0 when there is none (it is full).
func (s *Store) RateBucket(ctx context.Context, limiter, key string) (int64, error) {
	var at int64
	err := s.q(ctx).Raw(`SELECT full_at FROM rate_limits WHERE limiter = ? AND bucket = ?`, limiter, key).Row().Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return at, wrap(err)
}

// GiveRateToken gives a token back to a shared bucket.
func (s *Store) GiveRateToken(ctx context.Context, limiter, key string, every int64) error {
	return wrap(s.q(ctx).Exec(`UPDATE rate_limits SET full_at = full_at - ? WHERE limiter = ? AND bucket = ?`,
		every, limiter, key).Error)
}

// ResetRateBucket fills a shared bucket.
func (s *Store) ResetRateBucket(ctx context.Context, limiter, key string) error {
	return wrap(s.q(ctx).Exec(`DELETE FROM rate_limits WHERE limiter = ? AND bucket = ?`, limiter, key).Error)
}

// DeleteFullRateBuckets deletes the shared buckets that are full again by now (Unix
// nanoseconds): a missing bucket is a full one.
func (s *Store) DeleteFullRateBuckets(ctx context.Context, now int64) (int64, error) {
	res := s.q(ctx).Exec(`DELETE FROM rate_limits WHERE full_at <= ?`, now)
	return res.RowsAffected, wrap(res.Error)
}
