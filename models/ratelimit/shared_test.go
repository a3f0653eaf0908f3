package ratelimit_test

import (
	"context"
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
	for range 4 {
		wait, ok := next().Reserve("c", 2*time.Minute)
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
