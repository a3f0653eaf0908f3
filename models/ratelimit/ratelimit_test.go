package ratelimit

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := New(3, time.Minute).WithClock(func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if ok, _ := l.Check("a"); !ok {
			t.Fatalf("blocked after %d failures", i)
		}
		l.Fail("a")
	}
	ok, wait := l.Check("a")
	if ok || wait <= 0 || wait > time.Minute {
		t.Fatalf("after burst: ok=%v wait=%v", ok, wait)
	}
	if ok, _ := l.Check("b"); !ok {
		t.Fatal("another key is blocked")
	}
	now = now.Add(wait)
	if ok, _ := l.Check("a"); !ok {
		t.Fatal("still blocked after the advertised wait")
	}
	l.Fail("a")
	if ok, _ := l.Check("a"); ok {
		t.Fatal("one refill allowed more than one failure")
	}
	l.Reset("a")
	if ok, _ := l.Check("a"); !ok {
		t.Fatal("blocked after reset")
	}
}

func TestTake(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := New(1, time.Hour).WithClock(func() time.Time { return now })
	if !l.Take("a") || l.Take("a") {
		t.Fatal("burst 1 must allow exactly one take")
	}
	if !l.Take("b") {
		t.Fatal("another key shares the budget")
	}
	now = now.Add(59 * time.Minute)
	if l.Take("a") {
		t.Fatal("a take before the refill")
	}
	now = now.Add(time.Minute)
	if !l.Take("a") {
		t.Fatal("no take after the refill")
	}
}
