// Package text says what Onramp takes as text and how it shortens text for storage. Every field
// of Onramp is one line: valid UTF-8 without control characters. PostgreSQL refuses a NUL byte
// and bytes that are not UTF-8 in a text value, and a control character (tab and line breaks
// included) makes no sense in a name, an email, a code, a password or a search.
package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Valid reports whether s is text Onramp takes: valid UTF-8 without a control character
// (Unicode's Cc: NUL and the other C0 codes, DEL and the C1 codes).
func Valid(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// ValidLines is Valid for the few fields that hold several lines (a PEM certificate): line
// breaks and tabs are allowed, the other control characters are not.
func ValidLines(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
	})
}

// Refusal is the message for a value that is not Valid; what names it ("The field "email"").
func Refusal(what string) string {
	return what + " is not text: remove the NUL bytes, control characters or bytes that are not UTF-8 from it."
}

// Cut returns the longest prefix of s of at most n bytes that does not end inside a character,
// so that a column limited in bytes gets valid UTF-8 from valid UTF-8.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Shorten is Cut with "…" after the text when it was longer than n bytes (so at most n+3).
func Shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return Cut(s, n) + "…"
}
