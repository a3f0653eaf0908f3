// Package ratelimit keeps failure budgets: per key (an email, a client address, an account), a
// bucket of Burst tokens refilled at one per Every. A check takes a token before it runs and
// gives it back when it succeeds, so only failures spend the budget and a burst of concurrent
// attempts cannot all be checked before the first failure counts.
//
// Buckets live in memory, or, for a limiter that Shares a Store whose buckets every instance
// sees (the database on PostgreSQL), there: then the budget holds however many replicas serve.
// A shared bucket is a time, the moment it is full again (the "theoretical arrival time" of
// GCRA), so that taking a token is one atomic statement and no lock is held across a check.
package ratelimit

import (
	"context"
	"math"
	"net/netip"
	"sync"
	"time"
)

// Store keeps shared buckets (models/store on PostgreSQL). Times are Unix nanoseconds.
type Store interface {
	// SharesRateLimits says whether other instances may use the same buckets; when not (one
	// embedded SQLite database, one process), limiters stay in memory.
	SharesRateLimits() bool
	// TakeRateToken moves the bucket's full-again time to max(it, now)+every when it is at most
	// now+limit, in one atomic statement, and returns the new time and true; otherwise the
	// bucket's time and false.
	TakeRateToken(ctx context.Context, limiter, key string, now, every, limit int64) (fullAt int64, ok bool, err error)
	// GiveRateToken moves the bucket's time back by every.
	GiveRateToken(ctx context.Context, limiter, key string, every int64) error
	// ResetRateBucket deletes the bucket (it is full).
	ResetRateBucket(ctx context.Context, limiter, key string) error
}

// sharedTimeout bounds a shared bucket's statement: the limiter's methods have no context of
// their own (their callers check before the request's work, and settle after it).
const sharedTimeout = 5 * time.Second

// Limiter holds one bucket per key.
type Limiter struct {
	every time.Duration
	burst float64
	now   func() time.Time
	// shared and name, when set, keep the buckets in the store under name.
	shared Store
	name   string

	mu        sync.Mutex
	keys      map[string]*bucket
	lastSweep time.Time
}

// bucket is a key's tokens as of at; tokens below zero are turns reserved by waiters (Reserve).
type bucket struct {
	tokens float64
	at     time.Time
}

// New returns a limiter that allows burst, then one more per every.
func New(burst int, every time.Duration) *Limiter {
	return &Limiter{every: every, burst: float64(burst), now: time.Now, keys: map[string]*bucket{}}
}

// WithClock replaces the clock (tests).
func (l *Limiter) WithClock(now func() time.Time) *Limiter { l.now = now; return l }

// Shares keeps the limiter's buckets in st under name (unique per limiter), when st shares
// them with other instances; otherwise they stay in memory. When the store fails (the
// database is down), the limiter falls back to its memory for that call: the budget then
// holds per instance until the database is back.
func (l *Limiter) Shares(st Store, name string) *Limiter {
	if st != nil && st.SharesRateLimits() {
		l.shared, l.name = st, name
	}
	return l
}

// take is Take and Reserve on the shared store: limit is how far past now the bucket's
// full-again time may be before the token (burst-1 tokens owed, plus what a waiter may owe).
// handled is false when the store failed.
func (l *Limiter) take(key string, maxWait time.Duration) (wait time.Duration, ok, handled bool) {
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	now := l.now()
	owed := time.Duration((l.burst - 1) * float64(l.every))
	fullAt, ok, err := l.shared.TakeRateToken(ctx, l.name, key, now.UnixNano(), int64(l.every), int64(owed+maxWait))
	if err != nil {
		return 0, false, false
	}
	debt := time.Duration(fullAt - now.UnixNano())
	if ok {
		// The token taken is due once the bucket owes no more than burst tokens.
		return max(0, debt-owed-l.every), true, true
	}
	return max(0, debt-owed), false, true
}

// sharedDo runs a statement on the shared store; false when it failed.
func (l *Limiter) sharedDo(f func(ctx context.Context) error) bool {
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	return f(ctx) == nil
}

// bucket returns key's bucket refilled to now. Keys whose bucket is full again are forgotten
// now and then, so that memory is bounded by recent failures.
func (l *Limiter) bucket(key string, now time.Time) *bucket {
	if now.Sub(l.lastSweep) > time.Minute {
		for k, b := range l.keys {
			if l.refill(b, now); b.tokens >= l.burst {
				delete(l.keys, k)
			}
		}
		l.lastSweep = now
	}
	b, ok := l.keys[key]
	if !ok {
		b = &bucket{tokens: l.burst, at: now}
		l.keys[key] = b
	}
	l.refill(b, now)
	return b
}

func (l *Limiter) refill(b *bucket, now time.Time) {
	if now.After(b.at) {
		b.tokens = math.Min(l.burst, b.tokens+float64(now.Sub(b.at))/float64(l.every))
		b.at = now
	}
}

// wait is how long a bucket holding tokens takes to hold one.
func (l *Limiter) wait(tokens float64) time.Duration {
	return time.Duration(math.Ceil((1 - tokens) * float64(l.every)))
}

// Take spends one token of key if there is one; otherwise it reports how long until there is.
func (l *Limiter) Take(key string) (ok bool, retryAfter time.Duration) {
	if l.shared != nil {
		if wait, ok, handled := l.take(key, 0); handled {
			return ok, wait
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key, l.now())
	if b.tokens < 1 {
		return false, l.wait(b.tokens)
	}
	b.tokens--
	return true, 0
}

// Reserve takes key's next token, waiting for it when there is none yet: it returns how long
// the caller must wait before acting, or false (and how long until a turn comes) when that is
// more than maxWait. Waiters queue in order; the pace of checks is the same as with Take, only
// the answer is "wait" instead of "no".
func (l *Limiter) Reserve(key string, maxWait time.Duration) (wait time.Duration, ok bool) {
	if l.shared != nil {
		if wait, ok, handled := l.take(key, maxWait); handled {
			return wait, ok
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key, l.now())
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	wait = l.wait(b.tokens)
	if wait > maxWait {
		return wait, false
	}
	b.tokens--
	return wait, true
}

// Give returns a token taken for an attempt that did not fail.
func (l *Limiter) Give(key string) {
	if l.shared != nil && l.sharedDo(func(ctx context.Context) error {
		return l.shared.GiveRateToken(ctx, l.name, key, int64(l.every))
	}) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key, l.now())
	b.tokens = math.Min(l.burst, b.tokens+1)
}

// Reset gives key its whole budget back (a sign-in that succeeded).
func (l *Limiter) Reset(key string) {
	if l.shared != nil && l.sharedDo(func(ctx context.Context) error { return l.shared.ResetRateBucket(ctx, l.name, key) }) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}

// ClientKey is the budget key of a client address: the address itself for IPv4, its /64 for
// IPv6, since one subscriber or one host usually holds a whole /64 and can pick any address in
// it. Anything that does not parse as an address is its own key.
func ClientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}
