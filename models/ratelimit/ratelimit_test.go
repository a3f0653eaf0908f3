package ratelimit

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestTakeAndGive(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := New(3, time.Minute).WithClock(func() time.Time { return now })
	for i := range 3 {
		if ok, _ := l.Take("a"); !ok {
			t.Fatalf("refused after %d takes", i)
		}
	}
	ok, wait := l.Take("a")
	if ok || wait <= 0 || wait > time.Minute {
		t.Fatalf("after the burst: ok=%v wait=%v", ok, wait)
	}
	if ok, _ := l.Take("b"); !ok {
		t.Fatal("another key is refused")
	}
	// A success gives its token back: the budget counts failures only.
	l.Give("a")
	if ok, _ := l.Take("a"); !ok {
		t.Fatal("a token given back cannot be taken")
	}
	now = now.Add(wait)
	if ok, _ := l.Take("a"); !ok {
		t.Fatal("still refused after the advertised wait")
	}
	if ok, _ := l.Take("a"); ok {
		t.Fatal("one refill allowed two takes")
	}
	// Give never raises a budget above its burst.
	l.Reset("a")
	for range 5 {
		l.Give("a")
	}
	for i := range 4 {
		if ok, _ := l.Take("a"); ok != (i < 3) {
			t.Fatalf("take %d after a reset and gives: %v", i, ok)
		}
	}
}

// TestBurstIsAtomic: of many concurrent attempts, exactly the burst gets a token, whatever the
// interleaving (the old check-then-record limiter let a burst through before any failure
// counted).
func TestBurstIsAtomic(t *testing.T) {
	t.Parallel()
	l := New(10, time.Hour)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			if took, _ := l.Take("1.2.3.4"); took {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 10 {
		t.Fatalf("%d of 200 concurrent attempts got a token, want 10", ok.Load())
	}
}

func TestAdmitQueuesAtTheSamePace(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := New(1, 30*time.Second).WithClock(func() time.Time { return now })
	if _, wait, ok := l.Admit("a", 30*time.Second); !ok || wait != 0 {
		t.Fatalf("first: %v %v", wait, ok)
	}
	// The next turn is 30 s away: within the allowed wait.
	if _, wait, ok := l.Admit("a", 30*time.Second); !ok || wait != 30*time.Second {
		t.Fatalf("second: %v %v", wait, ok)
	}
	// The turn after is 60 s away: refused, with when to come back.
	if _, wait, ok := l.Admit("a", 30*time.Second); ok || wait != 60*time.Second {
		t.Fatalf("third: %v %v", wait, ok)
	}
	now = now.Add(30 * time.Second) // the second waiter acts now
	if ok, _ := l.Take("a"); ok {
		t.Fatal("a take jumped the queue")
	}
	now = now.Add(30 * time.Second)
	if ok, _ := l.Take("a"); !ok {
		t.Fatal("no token after the queue drained")
	}
}

func TestClientKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"192.0.2.7":            "192.0.2.7",
		"::ffff:192.0.2.7":     "192.0.2.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":      "2001:db8:1:3::/64",
		"fe80::1%eth0":         "fe80::/64",
		"not an address":       "not an address",
		"":                     "",
	} {
		if got := ClientKey(in); got != want {
			t.Errorf("ClientKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFullBucketsAreForgotten(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := New(2, time.Minute).WithClock(func() time.Time { return now })
	for i := range 1000 {
		l.Take(string(rune('a'+i%26)) + time.Duration(i).String())
	}
	now = now.Add(3 * time.Minute)
	l.Take("x")
	if n := len(l.keys); n != 1 {
		t.Fatalf("%d keys kept after every bucket refilled", n)
	}
}
