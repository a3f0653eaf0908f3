// Package ratelimit keeps failure budgets: per key (an email, a client address, an account), a
// bucket of Burst tokens refilled at one per Every. A check takes a token before it runs and
// gives it back when it succeeds, so only failures spend the budget and a burst of concurrent
// attempts cannot all be checked before the first failure counts.
//
// Buckets live in memory, or, for a limiter that Shares a Store whose buckets every instance
// sees (the database on PostgreSQL), there: then the budget holds however many replicas serve.
// A shared bucket is a time, the moment it is full again (the "theoretical arrival time" of
// GCRA), so that taking a token is one atomic statement and no lock is held across a check.
//
// Admit is the optimistic variant for checks that mostly succeed (code redemption): on a
// shared store it reads the bucket, counts the instance's attempts in flight in memory, and
// writes the bucket only when an attempt fails, so that a success costs no write. Across N
// instances the budget can then be overrun by the attempts in flight on the other instances
// (see Admit). Try goes one step further: it leaves that read to the attempt's own statement.
// Peek and Charge take no token before a check, only after a failure: for secrets nobody can
// guess, where many good requests at once are the normal case.
package ratelimit

import (
	"context"
	"hash/maphash"
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
	// RateBucket reads the bucket's full-again time, 0 when there is none (it is full).
	RateBucket(ctx context.Context, limiter, key string) (fullAt int64, err error)
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
	// inflight counts, per key, the shared attempts admitted by this instance and not yet
	// settled (Admit): they are tokens taken that the store does not show yet.
	inflight map[string]int
	// stripes order, per key (by its hash), an admission's count and read against a failure's
	// write and settling (see admit).
	stripes [64]sync.RWMutex
	seed    maphash.Seed
}

// bucket is a key's tokens as of at; tokens below zero are turns reserved by waiters (Reserve).
type bucket struct {
	tokens float64
	at     time.Time
}

// New returns a limiter that allows burst, then one more per every.
func New(burst int, every time.Duration) *Limiter {
	return &Limiter{every: every, burst: float64(burst), now: time.Now, keys: map[string]*bucket{}, inflight: map[string]int{},
		seed: maphash.MakeSeed()}
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

// take is Take on the shared store: the bucket's full-again time may be at most burst-1 tokens
// past now before the token. handled is false when the store failed.
func (l *Limiter) take(key string) (wait time.Duration, ok, handled bool) {
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	now := l.now()
	owed := time.Duration((l.burst - 1) * float64(l.every))
	fullAt, ok, err := l.shared.TakeRateToken(ctx, l.name, key, now.UnixNano(), int64(l.every), int64(owed))
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
		if wait, ok, handled := l.take(key); handled {
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

// Peek reports whether key has a token left, without taking it; otherwise how long until it
// has. With Charge after each failure, it suits checks of secrets nobody can guess (256-bit
// tokens), where the budget only stops a client that keeps failing and many good requests at
// once must not count against it as Take would (each holding a token until it is given
// back). The price: failures checked at once may overrun the budget by those in flight.
func (l *Limiter) Peek(key string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	if l.shared != nil {
		var fullAt int64
		if l.sharedDo(func(ctx context.Context) (err error) {
			fullAt, err = l.shared.RateBucket(ctx, l.name, key)
			return err
		}) {
			debt := time.Duration(max(fullAt, now.UnixNano()) - now.UnixNano())
			owed := time.Duration((l.burst - 1) * float64(l.every))
			return debt <= owed, max(0, debt-owed)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.bucket(key, now); b.tokens < 1 {
		return false, l.wait(b.tokens)
	}
	return true, 0
}

// Charge takes a token of key for a failure Peek let through, even when none is left.
func (l *Limiter) Charge(key string) {
	if l.shared != nil && l.sharedDo(func(ctx context.Context) error {
		_, _, err := l.shared.TakeRateToken(ctx, l.name, key, l.now().UnixNano(), int64(l.every), math.MaxInt64)
		return err
	}) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bucket(key, l.now()).tokens--
}

// reserveLocal takes key's next token of the memory bucket, waiting for it when there is none
// yet: it returns how long the caller must wait before acting, or false (and how long until a
// turn comes) when that is more than maxWait. Waiters queue in order; the pace of checks is
// the same as with Take, only the answer is "wait" instead of "no".
func (l *Limiter) reserveLocal(key string, maxWait time.Duration) (wait time.Duration, ok bool) {
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
	l.giveLocal(key)
}

// giveLocal is Give on the memory bucket.
func (l *Limiter) giveLocal(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key, l.now())
	b.tokens = math.Min(l.burst, b.tokens+1)
}

// Attempt is a turn given by Admit: Spend it when the attempt failed, Cancel it otherwise.
type Attempt struct {
	l   *Limiter
	key string
	// local: the token was taken from the memory bucket (not shared, or the store failed).
	local bool
}

// Admit takes key's next token for an attempt, waiting for it when there is none yet: it
// returns how long the caller must wait before acting, or false (and how long until a turn
// comes) when that is more than maxWait. Waiters queue in order. In memory the token is taken
// at once. On a shared store it takes no token there: it reads the bucket and counts the attempt in this
// instance's memory until it is settled, and only Spend writes the bucket. A success then
// costs one read instead of two writes, at a price: attempts admitted at once on several
// instances do not see each other until they fail, so the budget (burst, plus the turns within
// maxWait) can be overrun by at most the attempts in flight for the key on the other instances
// (with two instances, 8 concurrent failures each and a budget of 11: at most 16, never more
// than 11 on one instance). Sequential attempts, on any instances, keep the budget exactly.
func (l *Limiter) Admit(key string, maxWait time.Duration) (a Attempt, wait time.Duration, ok bool) {
	a = Attempt{l: l, key: key, local: l.shared == nil}
	if !a.local {
		if wait, ok, handled := l.admit(key, maxWait); handled {
			return a, wait, ok
		}
		a.local = true
	}
	wait, ok = l.reserveLocal(key, maxWait)
	return a, wait, ok
}

// stripe is the lock that orders key's admissions against its failures.
func (l *Limiter) stripe(key string) *sync.RWMutex {
	return &l.stripes[maphash.String(l.seed, key)%uint64(len(l.stripes))]
}

// admit is Admit on the shared store; handled is false when the store failed. The attempt is
// counted in flight before the bucket is read, and a failure is written before it stops being
// counted, so that no attempt of this instance is ever missing from both. Neither is it ever
// counted in both: the count and the read hold key's stripe shared, a failure's write and its
// settling hold it alone, so that a failure is either still in flight or already in the store
// for every admission. Admissions do not wait for each other; a failure's write waits for the
// reads in progress of keys on its stripe.
func (l *Limiter) admit(key string, maxWait time.Duration) (wait time.Duration, ok, handled bool) {
	st := l.stripe(key)
	st.RLock()
	defer st.RUnlock()
	l.mu.Lock()
	n := l.inflight[key]
	l.inflight[key] = n + 1
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	now := l.now()
	fullAt, err := l.shared.RateBucket(ctx, l.name, key)
	if err != nil {
		l.settle(key)
		return 0, false, false
	}
	owed := time.Duration((l.burst - 1) * float64(l.every))
	debt := time.Duration(max(fullAt, now.UnixNano())-now.UnixNano()) + time.Duration(n)*l.every
	if debt > owed+maxWait {
		l.settle(key)
		return debt - owed, false, true
	}
	return max(0, debt-owed), true, true
}

// settle stops counting an attempt of key in flight.
func (l *Limiter) settle(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inflight[key]--; l.inflight[key] <= 0 {
		delete(l.inflight, key)
	}
}

// Check is the condition under which a shared store admits an attempt inside the attempt's own
// statement (Try): the bucket of Key in Limiter's rows is full again at Until (Unix
// nanoseconds) at the latest, or has no row.
type Check struct {
	Limiter, Key string
	Until        int64
}

// Try is Admit with the read left to the attempt's own statement, which saves that read's round
// trip: it counts an attempt of key in flight on this instance and returns the Check under
// which the statement admits it without a wait. A statement that finds the bucket past it must
// write nothing; the caller then Cancels the attempt and goes through Admit, which may wait or
// refuse. ok is false, and nothing is counted, when the limiter is not shared or this
// instance's attempts in flight for key already owe the burst: use Admit.
//
// The statement may see a failure in the bucket that is also still counted in flight (written,
// not yet settled: Try does not take the key's stripe, since the statement runs after it
// returns). That only makes the Check stricter, and Admit, which orders the two, decides.
func (l *Limiter) Try(key string) (a Attempt, c Check, ok bool) {
	if l.shared == nil {
		return Attempt{}, Check{}, false
	}
	owed := time.Duration((l.burst - 1) * float64(l.every))
	l.mu.Lock()
	n := l.inflight[key]
	if time.Duration(n)*l.every > owed {
		l.mu.Unlock()
		return Attempt{}, Check{}, false
	}
	l.inflight[key] = n + 1
	l.mu.Unlock()
	until := l.now().Add(owed - time.Duration(n)*l.every)
	return Attempt{l: l, key: key}, Check{Limiter: l.name, Key: key, Until: until.UnixNano()}, true
}

// Spend settles a failed attempt: its token stays taken (on a shared store, it is written
// now; if the store fails, the memory bucket keeps it). The zero Attempt settles nothing.
func (a Attempt) Spend() {
	if a.l == nil || a.local {
		return
	}
	l := a.l
	st := l.stripe(a.key)
	st.Lock()
	defer st.Unlock()
	defer l.settle(a.key)
	if l.sharedDo(func(ctx context.Context) error {
		_, _, err := l.shared.TakeRateToken(ctx, l.name, a.key, l.now().UnixNano(), int64(l.every), math.MaxInt64)
		return err
	}) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bucket(a.key, l.now()).tokens--
}

// Cancel settles an attempt that did not fail: its token is given back. The zero Attempt
// settles nothing.
func (a Attempt) Cancel() {
	if a.l == nil {
		return
	}
	if a.local {
		a.l.giveLocal(a.key)
		return
	}
	a.l.settle(a.key)
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
