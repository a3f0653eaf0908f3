package text

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValid(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "Ada Lovelace", "zoë@example.com", "東京", "a b", "emoji 🙂", "\u00a0non-breaking", "\u200bzero width"} {
		if !Valid(s) {
			t.Errorf("Valid(%q) = false", s)
		}
	}
	for _, s := range []string{"a\x00b", "\x00", "tab\there", "line\nbreak", "cr\r", "esc\x1b[31m", "del\x7f", "c1\u0085", "bad\xff", "cut\xc3", "\xed\xa0\x80 surrogate"} {
		if Valid(s) {
			t.Errorf("Valid(%q) = true", s)
		}
	}
}

func TestCut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abc", 3, "abc"},
		{"abc", 2, "ab"},
		{"éé", 3, "é"}, // 3 bytes end inside the second é
		{"éé", 4, "éé"},
		{"a🙂", 4, "a"},
		{"🙂", 0, ""},
		{strings.Repeat("é", 300), 255, strings.Repeat("é", 127)},
	}
	for _, tt := range tests {
		if got := Cut(tt.in, tt.n); got != tt.want {
			t.Errorf("Cut(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
	for n := range 40 {
		s := "Zoë 東京 🙂 Ω"
		if got := Cut(s, n); len(got) > n || !utf8.ValidString(got) || !strings.HasPrefix(s, got) || len(got) < n-3 && got != s {
			t.Errorf("Cut(%q, %d) = %q", s, n, got)
		}
	}
}

func TestShorten(t *testing.T) {
	t.Parallel()
	if got := Shorten("short", 10); got != "short" {
		t.Errorf("Shorten kept %q", got)
	}
	if got := Shorten("Zoë Zoë", 3); got != "Zo…" {
		t.Errorf("Shorten = %q", got)
	}
}

func TestValidLines(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "-----BEGIN CERTIFICATE-----\r\nMIIB\n-----END CERTIFICATE-----\n", "tab\there"} {
		if !ValidLines(s) {
			t.Errorf("ValidLines(%q) = false", s)
		}
	}
	for _, s := range []string{"a\x00b", "esc\x1b[31m", "del\x7f", "c1\u0085", "bad\xff"} {
		if ValidLines(s) {
			t.Errorf("ValidLines(%q) = true", s)
		}
	}
}
