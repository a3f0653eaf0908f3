// Package ratelimit keeps failure budgets in memory: per key (an email, a client address, an
// account), a bucket of Burst tokens refilled at one per Every. A check takes a token before it
// runs and gives it back when it succeeds, so only failures spend the budget and a burst of
// concurrent attempts cannot all be checked before the first failure counts.
package ratelimit

import (
	"math"
	"net/netip"
	"sync"
	"time"
)

// Limiter holds one bucket per key.
type Limiter struct {
	every time.Duration
	burst float64
	now   func() time.Time

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
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key, l.now())
	b.tokens = math.Min(l.burst, b.tokens+1)
}

// Reset gives key its whole budget back (a sign-in that succeeded).
func (l *Limiter) Reset(key string) {
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
