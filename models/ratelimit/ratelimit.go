// Package ratelimit counts failures per key (an email, an IP) in memory and says when a key has
// failed too often. Only failures spend tokens, so a user who signs in correctly is never slowed.
package ratelimit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter allows Burst failures per key, refilled at one per Every.
type Limiter struct {
	every time.Duration
	burst int
	now   func() time.Time

	mu        sync.Mutex
	keys      map[string]*rate.Limiter
	lastSweep time.Time
}

// New returns a limiter that allows burst failures, then one more per every.
func New(burst int, every time.Duration) *Limiter {
	return &Limiter{every: every, burst: burst, now: time.Now, keys: map[string]*rate.Limiter{}}
}

// WithClock replaces the clock (tests).
func (l *Limiter) WithClock(now func() time.Time) *Limiter { l.now = now; return l }

func (l *Limiter) get(key string, now time.Time) *rate.Limiter {
	// Forget keys that have refilled completely, so memory is bounded by recent failures.
	if now.Sub(l.lastSweep) > time.Minute {
		for k, lim := range l.keys {
			if lim.TokensAt(now) >= float64(l.burst) {
				delete(l.keys, k)
			}
		}
		l.lastSweep = now
	}
	lim, ok := l.keys[key]
	if !ok {
		lim = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.keys[key] = lim
	}
	return lim
}

// Check reports whether key may try again and, if not, how long until it may.
func (l *Limiter) Check(key string) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	lim, found := l.keys[key]
	if !found {
		return true, 0
	}
	tokens := lim.TokensAt(now)
	if tokens >= 1 {
		return true, 0
	}
	wait := time.Duration(math.Ceil((1 - tokens) * float64(l.every)))
	return false, wait
}

// Fail records one failure for key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.get(key, now).AllowN(now, 1)
}

// Take spends one token of key and reports whether there was one: a limiter of burst 1 then
// lets one thing per key happen once per Every (one event for a run of identical refusals).
func (l *Limiter) Take(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	return l.get(key, now).AllowN(now, 1)
}

// Reset forgets key's failures (after a success).
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}
