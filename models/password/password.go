// Package password owns how Onramp stores and judges passwords: argon2id hashes (PHC strings) and
// the length and common-password rules (docs/security.md, Passwords).
package password

import (
	_ "embed"
	"fmt"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"

	"onramp/models"
)

// Length limits for every password Onramp accepts.
const (
	MinLength = 12
	MaxLength = 128
)

// Hasher hashes and verifies passwords with argon2id. Each hash takes the memory of its
// parameters (64 MiB in production) for its duration, so the hashes running at once are
// capped: a flood of sign-ins waits for a slot a moment, then is answered models.ErrBusy,
// instead of taking the server's memory.
type Hasher struct {
	params *argon2id.Params
	dummy  string
	slots  chan struct{}
	wait   time.Duration
}

// DefaultWait is how long a hash waits for a slot before giving up with models.ErrBusy.
const DefaultWait = 2 * time.Second

// ErrBusy: every hashing slot stayed taken for the whole wait.
var ErrBusy = fmt.Errorf("%w: too many passwords are being checked at once; try again in a moment", models.ErrBusy)

// Production parameters: 64 MiB, 1 pass, 2 lanes (the RFC 9106 second recommendation, scaled to
// a 2-core server).
var defaultParams = argon2id.Params{Memory: 64 * 1024, Iterations: 1, Parallelism: 2, SaltLength: 16, KeyLength: 32}

// NewHasher uses the production parameters.
func NewHasher() *Hasher { return newHasher(&defaultParams) }

// NewFastHasher is for tests only: the same algorithm with a small memory cost.
func NewFastHasher() *Hasher {
	return newHasher(&argon2id.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32})
}

func newHasher(p *argon2id.Params) *Hasher {
	h := (&Hasher{params: p}).WithLimit(2*runtime.NumCPU(), DefaultWait)
	// A hash to verify against when the account does not exist, so that the answer takes as long.
	d, err := argon2id.CreateHash("onramp-dummy-password", p)
	if err != nil {
		panic(err)
	}
	h.dummy = d
	return h
}

// WithLimit lets at most slots hashes run at once, each waiting at most wait for its turn (the
// default is twice the CPUs, DefaultWait): argon2id is CPU-bound, so more at once would only
// take more memory, not finish sooner.
func (h *Hasher) WithLimit(slots int, wait time.Duration) *Hasher {
	h.slots, h.wait = make(chan struct{}, max(1, slots)), wait
	return h
}

// acquire takes a hashing slot, or gives ErrBusy after the wait.
func (h *Hasher) acquire() error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(h.wait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-t.C:
		return ErrBusy
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns a PHC-encoded argon2id hash.
func (h *Hasher) Hash(pw string) (string, error) {
	if err := h.acquire(); err != nil {
		return "", err
	}
	defer h.release()
	return argon2id.CreateHash(pw, h.params)
}

// Verify reports whether pw matches hash. An empty hash (no password set) never matches, but
// still costs one hash computation, so that an unknown account takes as long as a wrong
// password. With every slot taken for the whole wait it gives ErrBusy.
func (h *Hasher) Verify(pw, hash string) (bool, error) {
	if err := h.acquire(); err != nil {
		return false, err
	}
	defer h.release()
	if hash == "" {
		_, _ = argon2id.ComparePasswordAndHash(pw, h.dummy)
		return false, nil
	}
	ok, err := argon2id.ComparePasswordAndHash(pw, hash)
	return err == nil && ok, nil
}

//go:embed common.txt
var commonList string

var common = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, l := range strings.Split(commonList, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[strings.ToLower(l)] = struct{}{}
		}
	}
	return m
}()

// Validate returns a message for a password that breaks the rules, or "". No composition rules:
// length and a list of passwords attackers try first (NIST SP 800-63B).
func Validate(pw string) string {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinLength:
		return "Use at least 12 characters."
	case n > MaxLength:
		return "Use at most 128 characters."
	}
	if _, bad := common[strings.ToLower(pw)]; bad {
		return "This password is too common. Choose one that is harder to guess."
	}
	if isRepetitive(strings.ToLower(pw)) {
		return "This password is too easy to guess. Avoid repeated or sequential characters."
	}
	return ""
}

// isRepetitive catches "aaaaaaaaaaaa", "abababababab" and "123456789012"-style runs that no list
// can enumerate.
func isRepetitive(pw string) bool {
	r := []rune(pw)
	for period := 1; period <= 3; period++ {
		same := true
		for i := period; i < len(r); i++ {
			if r[i] != r[i-period] {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	seq := true
	for i := 1; i < len(r); i++ {
		d := r[i] - r[i-1]
		if d != 1 && d != -9 { // "...789012..." wraps from 9 to 0
			seq = false
			break
		}
	}
	return seq
}
