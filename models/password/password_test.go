package password

import (
	"strings"
	"testing"
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
	if !h.Verify("violet harbour lantern", hash) {
		t.Fatal("right password refused")
	}
	if h.Verify("violet harbour lanterns", hash) {
		t.Fatal("wrong password accepted")
	}
	if h.Verify("", "") {
		t.Fatal("empty hash accepted")
	}
}
