// Package password owns how Onramp stores and judges passwords: argon2id hashes (PHC strings) and
// the length and common-password rules (docs/security.md, Passwords).
package password

import (
	_ "embed"
	"strings"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
)

// Length limits for every password Onramp accepts.
const (
	MinLength = 12
	MaxLength = 128
)

// Hasher hashes and verifies passwords with argon2id.
type Hasher struct {
	params *argon2id.Params
	dummy  string
}

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
	h := &Hasher{params: p}
	// A hash to verify against when the account does not exist, so that the answer takes as long.
	d, err := argon2id.CreateHash("onramp-dummy-password", p)
	if err != nil {
		panic(err)
	}
	h.dummy = d
	return h
}

// Hash returns a PHC-encoded argon2id hash.
func (h *Hasher) Hash(pw string) (string, error) { return argon2id.CreateHash(pw, h.params) }

// Verify reports whether pw matches hash. An empty hash (no password set) never matches, but
// still costs one hash computation.
func (h *Hasher) Verify(pw, hash string) bool {
	if hash == "" {
		_, _ = argon2id.ComparePasswordAndHash(pw, h.dummy)
		return false
	}
	ok, err := argon2id.ComparePasswordAndHash(pw, hash)
	return err == nil && ok
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
