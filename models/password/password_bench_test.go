//go:build bench

package password

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkValidate: what judging a password costs, from an everyday one to the slowest kind
// for the estimator (look-alike symbols, which it tries as letters in every combination), at
// the longest length Onramp accepts. Compare with BenchmarkHash, which follows every success.
func BenchmarkValidate(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	symbols := []byte("4@8({[<3&6|1!0$5+7%2")
	worst := make([]byte, MaxLength)
	for i := range worst {
		worst[i] = symbols[r.IntN(len(symbols))]
	}
	for _, c := range []struct{ name, pw string }{
		{"passphrase", "violet harbour lantern"},
		{"refused", "P@ssw0rd2024!"},
		{"max-length-passphrase", "the violet harbour lantern glows over copper meadows while a distant whistle calls the fishing boats home before winter storms!!"},
		{"max-length-look-alikes", string(worst)},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				Validate(c.pw, "alice.martin@example.com", "Alice Martin", "acme")
			}
		})
	}
}

// BenchmarkHash is one argon2id hash with the production parameters.
func BenchmarkHash(b *testing.B) {
	h := NewHasher()
	for b.Loop() {
		if _, err := h.Hash("violet harbour lantern"); err != nil {
			b.Fatal(err)
		}
	}
}
