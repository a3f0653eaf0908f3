package codes

import (
	"errors"
	"strings"
	"testing"

	"onramp/models/secret"
)

func TestNewCodes(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	counts := map[rune]int{}
	for i := 0; i < 2000; i++ {
		c := New()
		if len(c) != Length {
			t.Fatalf("%q has %d symbols", c, len(c))
		}
		if n, err := Normalize(c); err != nil || n != c {
			t.Fatalf("%q does not normalise to itself: %q %v", c, n, err)
		}
		if seen[c] {
			t.Fatalf("%q twice", c)
		}
		seen[c] = true
		for _, r := range c {
			counts[r]++
		}
	}
	if len(counts) != len(Alphabet) {
		t.Fatalf("only %d of %d symbols used", len(counts), len(Alphabet))
	}
	for _, bad := range "0O1IL" {
		if strings.ContainsRune(Alphabet, bad) || counts[bad] > 0 {
			t.Fatalf("%q in the alphabet", bad)
		}
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	if got := Format("ABCDEFGHJKMNPQRS"); got != "ABCD-EFGH-JKMN-PQRS" {
		t.Fatalf("Format = %q", got)
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"ABCD-EFGH-JKMN-PQRS", "ABCDEFGHJKMNPQRS", true},
		{"abcd efgh jkmn pqrs", "ABCDEFGHJKMNPQRS", true},
		{"  abcd-EFGH jkmn--pqrs ", "ABCDEFGHJKMNPQRS", true},
		{"ABCDEFGHJKMNPQRS", "ABCDEFGHJKMNPQRS", true},
		{"23456789ABCDEFGH", "23456789ABCDEFGH", true},
		// Spaces and hyphens as pasted from documents: no-break and wide spaces, dashes.
		{"ABCD\u00a0EFGH\u202fJKMN\u3000PQRS", "ABCDEFGHJKMNPQRS", true},
		{"ABCD\u2010EFGH\u2011JKMN\u2013PQRS", "ABCDEFGHJKMNPQRS", true},
		// Control characters are not separators: tab and line breaks make the code malformed.
		{"ABCD\tEFGH\tJKMN\tPQRS", "", false},
		{"ABCDEFGHJKMNPQRS\n", "", false},
		{"ABCD\r\nEFGH-JKMN-PQRS", "", false},
		{"ABCD\x00EFGHJKMNPQRS", "", false},
		{"ABCD-EFGH-JKMN-PQR0", "", false},  // zero is excluded
		{"ABCD-EFGH-JKMN-PQRO", "", false},  // letter O
		{"ABCD-EFGH-JKMN-PQR1", "", false},  // one
		{"ABCD-EFGH-JKMN-PQRI", "", false},  // letter I
		{"ABCD-EFGH-JKMN-PQRl", "", false},  // lowercase L
		{"ABCD-EFGH-JKMN-PQR", "", false},   // too short
		{"ABCD-EFGH-JKMN-PQRST", "", false}, // too long
		{"", "", false},
		{"ABCD_EFGH_JKMN_PQRS", "", false},
		{"ÀBCD-EFGH-JKMN-PQRS", "", false},
		{strings.Repeat("-", 100), "", false},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.in)
		if tt.ok && (err != nil || got != tt.want) {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if !tt.ok && !errors.Is(err, ErrMalformed) {
			t.Errorf("Normalize(%q) = %q, %v; want ErrMalformed", tt.in, got, err)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"ABCD-EFGH-JKMN-PQRS", "abcd efgh jkmn pqrs", "0O1IL", "", "ÀBCD"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := Normalize(in)
		if err != nil {
			return
		}
		if len(got) != Length {
			t.Fatalf("Normalize(%q) = %q: wrong length", in, got)
		}
		for _, r := range got {
			if !strings.ContainsRune(Alphabet, r) {
				t.Fatalf("Normalize(%q) = %q: %q is not in the alphabet", in, got, r)
			}
		}
		if again, err := Normalize(Format(got)); err != nil || again != got {
			t.Fatalf("formatted %q does not normalise back: %q %v", got, again, err)
		}
	})
}

func TestSealer(t *testing.T) {
	t.Parallel()
	s := NewSealer(secret.NewKeys([]byte("a-test-secret-a-test-secret-a-test")))
	other := NewSealer(secret.NewKeys([]byte("another-secret-another-secret-xyz")))
	code := New()
	once, again := s.Lookup(code), s.Lookup(code)
	if once != again || once == other.Lookup(code) || once == s.Lookup(New()) {
		t.Fatal("lookup hashes are not keyed and deterministic")
	}
	sealed := s.Seal(7, code)
	if strings.Contains(sealed, code) || sealed == s.Seal(7, code) {
		t.Fatal("sealing is not randomised encryption")
	}
	if got, err := s.Open(7, sealed); err != nil || got != code {
		t.Fatalf("Open = %q %v", got, err)
	}
	if _, err := s.Open(8, sealed); !errors.Is(err, ErrUnsealable) {
		t.Fatal("a code sealed for account 7 opened for account 8")
	}
	if _, err := other.Open(7, sealed); !errors.Is(err, ErrUnsealable) {
		t.Fatal("another key opened the code")
	}
	if _, err := s.Open(7, "not base64!"); !errors.Is(err, ErrUnsealable) {
		t.Fatal("garbage opened")
	}
}

// During a rotation a code sealed under the previous secret opens and is found by its previous
// lookup hash; Reseal moves both to the current secret, once.
func TestSealerRotation(t *testing.T) {
	t.Parallel()
	oldSecret := []byte("the-old-codes-secret-the-old-codes")
	cur := secret.NewKeys([]byte("the-new-codes-secret-the-new-codes"))
	old, both, newOnly := NewSealer(secret.NewKeys(oldSecret)), NewSealer(cur.WithPrevious(oldSecret)), NewSealer(cur)
	code := New()
	sealed, lookup := old.Seal(7, code), old.Lookup(code)
	if got := both.Lookups(code); len(got) != 2 || got[0] != newOnly.Lookup(code) || got[1] != lookup {
		t.Fatalf("Lookups = %v", got)
	}
	if got, err := both.Open(7, sealed); err != nil || got != code {
		t.Fatalf("Open = %q %v", got, err)
	}
	resealed, relookup, changed, err := both.Reseal(7, sealed, lookup)
	if err != nil || !changed || relookup != newOnly.Lookup(code) {
		t.Fatalf("Reseal: %v %v", changed, err)
	}
	if got, err := newOnly.Open(7, resealed); err != nil || got != code {
		t.Fatalf("the new secret alone: %q %v", got, err)
	}
	if _, _, changed, err := both.Reseal(7, resealed, relookup); err != nil || changed {
		t.Fatalf("a second Reseal: %v %v", changed, err)
	}
	if _, _, _, err := newOnly.Reseal(7, sealed, lookup); !errors.Is(err, ErrUnsealable) {
		t.Fatalf("the new secret alone resealed the old value: %v", err)
	}
}
