// Package codes owns registration codes (docs/admin-guide.md, Registration codes): their alphabet and format, how typed input is
// normalised, and how a code is kept at rest (an HMAC to find it, an AES-GCM copy to download
// it). Its Service generates codes (for selected users in the Users Actions' transaction, and
// for every user that never had one as a resumable background run), revokes them, wipes the
// copies of expired ones and streams the active ones as CSV. Redemption builds on these too.
package codes

import (
	"crypto/rand"
	"errors"
	"strings"
	"unicode"
)

// Alphabet has 31 symbols: no 0, O, 1, I or L, which people confuse.
const Alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// Length is the number of symbols of a code (31^16 ≈ 2^79).
const Length = 16

// ErrMalformed is input that cannot be a code: wrong length or a symbol outside the alphabet.
var ErrMalformed = errors.New("malformed registration code")

// New returns a random code of Length symbols from crypto/rand, without modulo bias: bytes of
// 248 or more (8 × 31) are drawn again.
func New() string {
	out := make([]byte, 0, Length)
	buf := make([]byte, Length*2)
	for len(out) < Length {
		_, _ = rand.Read(buf) // crypto/rand.Read never fails on supported platforms
		for _, b := range buf {
			if b >= 248 {
				continue
			}
			out = append(out, Alphabet[int(b)%len(Alphabet)])
			if len(out) == Length {
				break
			}
		}
	}
	return string(out)
}

// Format groups a normalised code as XXXX-XXXX-XXXX-XXXX.
func Format(code string) string {
	var b strings.Builder
	for i, r := range code {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Normalize turns typed input into a code: case does not matter, spaces and hyphens are
// ignored, in any of Unicode's forms (space separators such as the no-break space, and dashes
// such as the en dash), which is what a code pasted from a document or a chat holds. A control
// character (tab, line break) is no separator: a code is one line, as every field is
// (models/text). Anything else that is not in the alphabet, or the wrong length, is
// ErrMalformed.
func Normalize(input string) (string, error) {
	if len(input) > 4*Length {
		return "", ErrMalformed
	}
	var b strings.Builder
	for _, r := range input {
		switch {
		case unicode.In(r, unicode.Zs, unicode.Pd):
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		if r > 127 || !strings.ContainsRune(Alphabet, r) {
			return "", ErrMalformed
		}
		b.WriteRune(r)
	}
	if b.Len() != Length {
		return "", ErrMalformed
	}
	return b.String(), nil
}
