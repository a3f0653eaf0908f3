package password

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"

	"onramp/models"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, pw string
		ok       bool
	}{
		{"too short", "short-pass1", false},
		{"exactly 12", "tangerine-ox", true},
		{"max length", strings.Repeat("ab1", 42) + "xy", true},
		{"too long", strings.Repeat("x", 120) + "yzyzyzyzy", false},
		{"common", "Password1234", false},
		{"common mixed case", "QWERTYUIOP123", false},
		{"repeated", "aaaaaaaaaaaaaa", false},
		{"alternating", "abababababab", false},
		{"sequence", "123456789012", false},
		{"passphrase", "violet harbour lantern", true},
		{"unicode counts runes", "ééééééééééé1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := Validate(tt.pw)
			if (msg == "") != tt.ok {
				t.Fatalf("Validate(%q) = %q, want ok=%v", tt.pw, msg, tt.ok)
			}
		})
	}
}

func TestHashVerify(t *testing.T) {
	t.Parallel()
	h := NewFastHasher()
	hash, err := h.Hash("violet harbour lantern")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$") {
		t.Fatalf("hash %q is not argon2id", hash)
	}
	for _, c := range []struct {
		pw, hash string
		want     bool
	}{{"violet harbour lantern", hash, true}, {"violet harbour lanterns", hash, false}, {"", "", false}} {
		if ok, err := h.Verify(c.pw, c.hash); ok != c.want || err != nil {
			t.Errorf("Verify(%q) = %v, %v, want %v", c.pw, ok, err, c.want)
		}
	}
}

// TestConcurrentHashesAreCapped: however many passwords are checked at once, only the hasher's
// slots hold argon2id's memory; the others wait, then get ErrBusy. Before the cap, 40 sign-ins
// at once took 40 times the memory of one (2.6 GB with the production parameters).
func TestConcurrentHashesAreCapped(t *testing.T) {
	t.Parallel()
	const mib = 16
	h := newHasher(&argon2id.Params{Memory: mib * 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}).
		WithLimit(2, 20*time.Millisecond)
	hash, err := h.Hash("violet harbour lantern")
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	var busy, checked atomic.Int32
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			switch _, err := h.Verify("not the password", hash); {
			case errors.Is(err, ErrBusy):
				busy.Add(1)
			case err == nil:
				checked.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	close(stop)
	<-sampled
	if busy.Load() == 0 || checked.Load() < 2 {
		t.Fatalf("%d checked, %d busy: want the two slots used and the rest told to wait", checked.Load(), busy.Load())
	}
	if !errors.Is(ErrBusy, models.ErrBusy) {
		t.Fatal("ErrBusy is not a models.ErrBusy: the HTTP layer would answer 500")
	}
	// Two slots at a time, with garbage the collector has not reclaimed yet: well under the 40
	// hashes' worth an uncapped hasher takes.
	if grew := (peak.Load() - min(peak.Load(), before.HeapInuse)) >> 20; grew > 8*mib {
		t.Fatalf("the heap grew by %d MiB while 40 hashes of %d MiB were asked for at once", grew, mib)
	}
}
