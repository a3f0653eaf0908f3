package ratelimit_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"onramp/models/ratelimit"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

// everywhere shares the buckets on SQLite too, so that the statements of the shared buckets
// run on both databases (serve shares them on PostgreSQL only: SQLite has one process).
type everywhere struct{ *store.Store }

func (everywhere) SharesRateLimits() bool { return true }

// step is what a scenario did, in order, to compare the shared buckets with the memory ones.
type step struct {
	ok   bool
	wait time.Duration
}

// scenario takes, gives, resets and reserves on limiters that stand for instances (one per
// call in turn), moving the clock as a client would.
func scenario(limiters []*ratelimit.Limiter, advance func(time.Duration)) []step {
	var out []step
	n := 0
	next := func() *ratelimit.Limiter { n++; return limiters[n%len(limiters)] }
	take := func(key string) time.Duration {
		ok, wait := next().Take(key)
		out = append(out, step{ok, wait})
		return wait
	}
	for range 3 {
		take("a")
	}
	wait := take("a") // refused: the burst is spent across the instances
	take("b")
	next().Give("a")
	take("a")
	advance(wait)
	take("a")
	take("a")
	next().Reset("a")
	for range 4 {
		take("a")
	}
	for range 4 { // failed attempts
		a, wait, ok := next().Admit("c", 2*time.Minute)
		if ok {
			a.Spend()
		}
		out = append(out, step{ok, wait})
	}
	return out
}

func TestSharedBucketsBehaveAsOneInMemory(t *testing.T) {
	t.Parallel()
	s := everywhere{storetest.Open(t)}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	advance := func(d time.Duration) { now = now.Add(d) }
	memory := scenario([]*ratelimit.Limiter{ratelimit.New(3, time.Minute).WithClock(clock)}, advance)
	now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	shared := scenario([]*ratelimit.Limiter{
		ratelimit.New(3, time.Minute).WithClock(clock).Shares(s, "test"),
		ratelimit.New(3, time.Minute).WithClock(clock).Shares(s, "test"),
	}, advance)
	if len(memory) != len(shared) {
		t.Fatalf("%d steps in memory, %d shared", len(memory), len(shared))
	}
	for i := range memory {
		if memory[i] != shared[i] {
			t.Errorf("step %d: memory %+v, shared %+v", i, memory[i], shared[i])
		}
	}
	if refused := memory[3]; refused.ok || refused.wait != time.Minute {
		t.Fatalf("the fourth take: %+v", refused)
	}
	// Full buckets are purged; spent ones stay.
	n, err := s.DeleteFullRateBuckets(context.Background(), now.Add(2*time.Minute).UnixNano())
	if err != nil || n != 1 {
		t.Fatalf("purged %d buckets (%v), want b's", n, err)
	}
}

// Of many concurrent attempts through two instances, exactly the burst gets a token.
func TestSharedBurstIsAtomic(t *testing.T) {
	t.Parallel()
	s := everywhere{storetest.Open(t)}
	limiters := []*ratelimit.Limiter{ratelimit.New(10, time.Hour).Shares(s, "test"), ratelimit.New(10, time.Hour).Shares(s, "test")}
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			if took, _ := limiters[i%2].Take("1.2.3.4"); took {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if n := ok.Load(); n != 10 {
		t.Fatalf("%d of 60 concurrent attempts got a token, want 10", n)
	}
}

// A store that does not share keeps the limiter in memory: two limiters are two budgets.
func TestUnsharedStoreKeepsMemory(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	a, b := ratelimit.New(1, time.Hour).Shares(s, "test"), ratelimit.New(1, time.Hour).Shares(s, "test")
	okA, _ := a.Take("k")
	okB, _ := b.Take("k")
	if !okA || okB == s.SharesRateLimits() {
		t.Fatalf("took %v and %v on %s", okA, okB, s.Dialect())
	}
}

// stalling holds a failure's write to the shared store after it is written, until released.
type stalling struct {
	everywhere
	written, release chan struct{}
}

func (s stalling) TakeRateToken(ctx context.Context, limiter, key string, now, every, limit int64) (int64, bool, error) {
	at, ok, err := s.everywhere.TakeRateToken(ctx, limiter, key, now, every, limit)
	close(s.written)
	<-s.release
	return at, ok, err
}

// A failure written to the store but not yet settled in memory counts once, not twice: an
// admission in that moment waits for the failure to settle. Counted twice, the second
// attempt of a budget of 2 would be refused.
func TestAdmitCountsAFailureOnce(t *testing.T) {
	t.Parallel()
	s := stalling{everywhere{storetest.Open(t)}, make(chan struct{}), make(chan struct{})}
	l := ratelimit.New(2, time.Hour).Shares(s, "test")
	first, _, ok := l.Admit("k", 0)
	if !ok {
		t.Fatal("the first attempt was refused")
	}
	spent := make(chan struct{})
	go func() { first.Spend(); close(spent) }()
	<-s.written
	admitted := make(chan bool)
	go func() {
		second, _, ok := l.Admit("k", 0)
		if ok {
			second.Cancel()
		}
		admitted <- ok
	}()
	select {
	case ok := <-admitted:
		t.Fatalf("an admission ran while a failure was written and still in flight (admitted: %v)", ok)
	case <-time.After(50 * time.Millisecond):
	}
	close(s.release)
	<-spent
	if !<-admitted {
		t.Fatal("the second attempt of a budget of 2 was refused: the first failure counted twice")
	}
}

// An admitted attempt that succeeds writes nothing to the shared store; one that fails writes
// its token there, where every instance sees it.
func TestAdmitWritesOnlyFailures(t *testing.T) {
	t.Parallel()
	s := everywhere{storetest.Open(t)}
	ctx := context.Background()
	a, b := ratelimit.New(2, time.Hour).Shares(s, "test"), ratelimit.New(2, time.Hour).Shares(s, "test")
	for i := range 20 {
		turn, wait, ok := []*ratelimit.Limiter{a, b}[i%2].Admit("k", 0)
		if !ok || wait != 0 {
			t.Fatalf("attempt %d refused: %v %v", i, ok, wait)
		}
		turn.Cancel()
	}
	if at, err := s.RateBucket(ctx, "test", "k"); err != nil || at != 0 {
		t.Fatalf("after 20 successes the bucket is %d (%v), want none", at, err)
	}
	for range 2 {
		turn, _, ok := a.Admit("k", 0)
		if !ok {
			t.Fatal("a failure within the budget was refused")
		}
		turn.Spend()
	}
	if at, err := s.RateBucket(ctx, "test", "k"); err != nil || at == 0 {
		t.Fatalf("after 2 failures the bucket is %d (%v)", at, err)
	}
	if _, wait, ok := b.Admit("k", 0); ok || wait <= 0 {
		t.Fatalf("the other instance admitted a third failure: %v %v", ok, wait)
	}
}

// Attempts admitted at once on two instances do not see each other's until they fail: 16
// concurrent failures, 8 through each instance, against a budget of 11 (a burst of 10 and one
// turn within the wait) all pass, since each instance's 8 are within the budget; the overrun
// is bounded by the other instance's attempts in flight, and each instance alone keeps the
// budget. Once they have failed, no instance admits another.
func TestConcurrentAdmitsOverrunByTheOthersInFlight(t *testing.T) {
	t.Parallel()
	s := everywhere{storetest.Open(t)}
	const burst, perInstance = 10, 8
	limiters := []*ratelimit.Limiter{ratelimit.New(burst, time.Hour).Shares(s, "test"), ratelimit.New(burst, time.Hour).Shares(s, "test")}
	for _, extra := range []int{perInstance, 2 * burst} { // in flight per instance: below, then above the budget
		key := "1.2.3." + strconv.Itoa(extra)
		var admitted [2]atomic.Int32
		turns := make(chan ratelimit.Attempt, 2*extra)
		var wg sync.WaitGroup
		for i := range 2 * extra {
			wg.Go(func() {
				if turn, _, ok := limiters[i%2].Admit(key, time.Hour); ok {
					admitted[i%2].Add(1)
					turns <- turn
				}
			})
		}
		wg.Wait()
		close(turns)
		for turn := range turns {
			wg.Go(turn.Spend)
		}
		wg.Wait()
		budget := int32(burst + 1)
		for i := range admitted {
			if n := admitted[i].Load(); n != min(int32(extra), budget) {
				t.Errorf("%d in flight: instance %d admitted %d, want %d", extra, i, n, min(int32(extra), budget))
			}
		}
		if n := admitted[0].Load() + admitted[1].Load(); n > budget+min(int32(extra), budget) {
			t.Errorf("%d in flight per instance: %d admitted, more than the budget %d and the other's in flight", extra, n, budget)
		}
		for _, l := range limiters {
			if _, _, ok := l.Admit(key, time.Hour); ok {
				t.Errorf("%d in flight: a further attempt was admitted after the failures", extra)
			}
		}
	}
}

// Try counts an attempt in flight and leaves the read to the attempt's own statement, with the
// latest full-again time that admits it without a wait; once the attempts in flight owe the
// burst, or when the limiter is not shared, it offers no check.
func TestTryLeavesTheReadToTheStatement(t *testing.T) {
	t.Parallel()
	s := everywhere{storetest.Open(t)}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := ratelimit.New(3, time.Minute).WithClock(func() time.Time { return now }).Shares(s, "test")
	var turns []ratelimit.Attempt
	for i := range 3 {
		a, c, ok := l.Try("k")
		if want := now.Add(time.Duration(2-i) * time.Minute).UnixNano(); !ok || c.Limiter != "test" || c.Key != "k" || c.Until != want {
			t.Fatalf("attempt %d: %+v %v, want until %d", i, c, ok, want)
		}
		turns = append(turns, a)
	}
	if _, _, ok := l.Try("k"); ok {
		t.Fatal("a fourth attempt in flight was offered a check")
	}
	for _, a := range turns {
		a.Cancel()
	}
	if _, c, ok := l.Try("k"); !ok || c.Until != now.Add(2*time.Minute).UnixNano() {
		t.Fatalf("after the attempts settled: %+v %v", c, ok)
	}
	if _, _, ok := ratelimit.New(3, time.Minute).Try("k"); ok {
		t.Fatal("a limiter in memory offered a check")
	}
}
