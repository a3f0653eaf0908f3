// Package password owns how Onramp stores and judges passwords: argon2id hashes (PHC strings) and
// the length and strength rules (docs/security.md, Passwords).
package password

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/match"

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

// Hold takes a hashing slot, as a hash in progress does, until release is called, or gives
// ErrBusy after the wait: tests hold every slot to see what a server too busy to hash answers.
func (h *Hasher) Hold() (release func(), err error) {
	if err := h.acquire(); err != nil {
		return nil, err
	}
	return sync.OnceFunc(h.release), nil
}

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

// minGuesses is how many guesses zxcvbn must estimate a password takes: its top score, 4. Its
// score 3 (10^8) still lets through what password sprays try first, a season or a name with a
// year ("Summer2024!!", "alice2024!!!").
const minGuesses = 1e10

// estimateRunes is how much of a password the estimator reads. Its cost grows steeply with length
// (a string of look-alike symbols of 128 characters takes about a second), while a password
// whose first estimateRunes characters are hard to guess is hard to guess whole; repetition,
// which only shows over the whole password, is checked over the whole password.
const estimateRunes = 32

// Validate returns a message for a password that breaks the rules, or "". No composition rules
// (NIST SP 800-63B): a length, then zxcvbn's estimate of how many guesses it takes, which knows
// common passwords, words and names, keyboard walks, dates, sequences, repeats and look-alike
// swaps, and, from about, the person's own email, name and account.
func Validate(pw string, about ...string) string {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return "This password is not valid text."
	case n < MinLength:
		return "Use at least 12 characters."
	case n > MaxLength:
		return "Use at most 128 characters."
	}
	lower := strings.ToLower(pw)
	if isRepeated(lower) {
		return tooEasy([]string{repeats})
	}
	if isSequence(lower) {
		return tooEasy([]string{sequence})
	}
	head := pw
	if n > estimateRunes {
		head = string([]rune(pw)[:estimateRunes])
	}
	r := zxcvbn.PasswordStrength(head, userWords(about))
	guesses := r.Guesses
	if guesses == 0 {
		// trustelem/zxcvbn#12: on some non-ASCII passwords the estimator finds its parts but
		// loses their total. Their product is a lower bound of it.
		guesses = 1
		for _, m := range r.Sequence {
			guesses *= m.Guesses
		}
	}
	if guesses >= minGuesses {
		return ""
	}
	return tooEasy(weaknesses(r.Sequence))
}

// What a guessable password is built on, as tooEasy says it.
const (
	ownWords  = "it contains your email address, name or account"
	common    = "it is based on a commonly used password"
	words     = "it is made of common words or names"
	lookAlike = "it hides a word behind look-alike symbols (@ for a, 0 for o)"
	backwards = "it spells a word backwards"
	keyboard  = "it follows a pattern on the keyboard"
	repeats   = "it repeats characters or words"
	sequence  = "it contains a sequence such as abc or 123"
	date      = "it contains a year or a date"
)

// weaknesses names, once each, what the estimator recognised in a password.
func weaknesses(seq []*match.Match) []string {
	var out []string
	add := func(w string) {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	for _, m := range seq {
		switch m.Pattern {
		case "dictionary":
			switch m.DictionaryName {
			case "user_inputs":
				add(ownWords)
			case "passwords":
				add(common)
			default:
				add(words)
			}
			if m.L33t {
				add(lookAlike)
			}
			if m.Reversed {
				add(backwards)
			}
		case "spatial":
			add(keyboard)
		case "repeat":
			add(repeats)
		case "sequence":
			add(sequence)
		case "regex", "date":
			add(date)
		}
	}
	return out
}

// tooEasy is the message for a password that is too easy to guess, with why.
func tooEasy(why []string) string {
	const advice = " Add a few more uncommon words."
	switch len(why) {
	case 0:
		return "This password is too easy to guess." + advice
	case 1:
		return "This password is too easy to guess: " + why[0] + "." + advice
	}
	return "This password is too easy to guess: " + strings.Join(why[:len(why)-1], ", ") + " and " + why[len(why)-1] + "." + advice
}

// userWords is what a password must not be built on, from the person's email, name and account:
// each whole and each of its words of three characters or more, lowercased.
func userWords(about []string) []string {
	var out []string
	for _, a := range about {
		a = strings.ToLower(strings.TrimSpace(a))
		parts := strings.FieldsFunc(a, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		for _, w := range append(parts, a) {
			if utf8.RuneCountInString(w) >= 3 && !slices.Contains(out, w) {
				out = append(out, w)
			}
		}
	}
	return out
}

// isRepeated catches a password made of one piece said at least twice ("aaaaaaaaaaaa",
// "abababababab", "password password password"), in any script: the estimator only reads the
// start of a long password, and it reads non-ASCII characters as bytes.
func isRepeated(pw string) bool {
	r := []rune(pw)
	for period := 1; 2*period <= len(r); period++ {
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
	return false
}

// isSequence catches "123456789012" and "абвгдежзийкл": characters one after the other, in any
// script.
func isSequence(pw string) bool {
	r := []rune(pw)
	for i := 1; i < len(r); i++ {
		d := r[i] - r[i-1]
		if d != 1 && d != -9 { // "...789012..." wraps from 9 to 0
			return false
		}
	}
	return true
}
