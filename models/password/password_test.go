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

// TestValidate: length, then how guessable the password is: common passwords, words and
// patterns. The first three weak ones are those the issue found accepted by the old 80-entry
// list.
func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, pw string
		ok       bool
		says     string
	}{
		{"too short", "short-pass1", false, "at least 12"},
		{"too long", strings.Repeat("x", 120) + "yzyzyzyzy", false, "at most 128"},
		{"not text", "violet harbour \xff lantern", false, "not valid text"},
		{"common password and digits", "Password123!", false, "commonly used password"},
		{"common phrase and digits", "iloveyou12345", false, "commonly used password"},
		{"look-alike swaps and a year", "P@ssw0rd2024!", false, "look-alike"},
		{"season and a year", "Summer2024!!", false, "too easy to guess"},
		{"name and a year", "AliceMartin1990", false, "too easy to guess"},
		{"common mixed case", "QWERTYUIOP123", false, "too easy to guess"},
		{"keyboard walk", "zxcvbnm,./;'", false, "keyboard"},
		{"repeated", "aaaaaaaaaaaaaa", false, "repeats"},
		{"alternating", "abababababab", false, "repeats"},
		{"sequence", "123456789012", false, "sequence"},
		{"repeated non-ASCII", "éééééééééééé", false, "repeats"},
		{"Cyrillic sequence", "абвгдежзийкл", false, "sequence"},
		{"a word repeated past what the estimator reads", strings.TrimSpace(strings.Repeat("password ", 14)), false, "repeats"},
		{"passphrase", "violet harbour lantern", true, ""},
		{"another passphrase", "copper meadow whistle", true, ""},
		{"random", "xk3-fq9-wm2p", true, ""},
		{"non-ASCII passphrase", "Grüße aus München 2024", true, ""},
		{"Cyrillic passphrase", "мой секретный пароль", true, ""},
		// trustelem/zxcvbn#12: the estimator loses its total on some non-ASCII passwords.
		{"non-ASCII the estimator miscounts", "çöççàéüüéàöüñ", true, ""},
		{"max length", "the violet harbour lantern glows over copper meadows while a distant whistle calls the fishing boats home before winter storms!!", true, ""},
		{"unicode counts runes", "früh-müde-öl", true, ""},
		{"unicode too short", "früh-müde-ö", false, "at least 12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg := Validate(tt.pw)
			if (msg == "") != tt.ok || !strings.Contains(msg, tt.says) {
				t.Fatalf("Validate(%q) = %q, want ok=%v saying %q", tt.pw, msg, tt.ok, tt.says)
			}
		})
	}
}

// TestValidateKnowsThePerson: a password built on the person's own email, name or account is
// refused, although it would pass for someone else.
func TestValidateKnowsThePerson(t *testing.T) {
	t.Parallel()
	about := []string{"alice.martin@example.com", "Alice Martin", "acme-corp"}
	for _, pw := range []string{"alice.martin@example.com2024", "Alice Martin 1990", "acmecorp-vpn!"} {
		if msg := Validate(pw); msg != "" {
			t.Fatalf("Validate(%q) without the person = %q, want it accepted", pw, msg)
		}
		if msg := Validate(pw, about...); !strings.Contains(msg, "your email address, name or account") {
			t.Errorf("Validate(%q) for %v = %q, want it refused for being about them", pw, about, msg)
		}
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
