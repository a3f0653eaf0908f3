// Package secret derives the independent keys Onramp needs (cookie signing, cookie encryption,
// code lookup, code encryption) from the one ONRAMP_SECRET, with HKDF-SHA256, and makes the
// random tokens that links and sessions carry. During a rotation (docs/replicas.md) Keys also
// holds the previous secret, so that what was sealed under it still opens.
package secret

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// Keys derives purpose-bound keys from a master secret.
type Keys struct {
	master   []byte
	previous *Keys // ONRAMP_SECRET_PREVIOUS during a rotation, or nil
}

// NewKeys wraps the master secret.
func NewKeys(master []byte) *Keys { return &Keys{master: append([]byte(nil), master...)} }

// WithPrevious returns keys that seal under k and also open what the previous secret sealed.
// An empty previous secret, or k's own, adds nothing.
func (k *Keys) WithPrevious(previous []byte) *Keys {
	if len(previous) == 0 || hmac.Equal(previous, k.master) {
		return k
	}
	return &Keys{master: k.master, previous: NewKeys(previous)}
}

// Previous is the previous secret's keys, or nil outside a rotation.
func (k *Keys) Previous() *Keys { return k.previous }

// DeriveAll returns the key bound to purpose under the current secret, then under the
// previous one during a rotation: seal with the first, open with any.
func (k *Keys) DeriveAll(purpose string) [][]byte {
	all := [][]byte{k.Derive(purpose)}
	if k.previous != nil {
		all = append(all, k.previous.Derive(purpose))
	}
	return all
}

// Derive returns a 32-byte key bound to purpose.
func (k *Keys) Derive(purpose string) []byte {
	key, err := hkdf.Key(sha256.New, k.master, nil, "onramp/"+purpose, 32)
	if err != nil {
		panic(err) // only for lengths HKDF cannot produce
	}
	return key
}

// Token returns a random URL-safe token of 256 bits.
func Token() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash is how tokens are stored: SHA-256, hex. Tokens are 256-bit random, so no salt or
// stretching is needed.
func Hash(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}

// CheckValue is the key check value of the master secret: an HMAC of a constant under a key
// derived for it. Stored at first start, it tells a later start whether it has the secret the
// sealed data was sealed with, without revealing anything about the secret.
func (k *Keys) CheckValue() string {
	m := hmac.New(sha256.New, k.Derive("key-check"))
	m.Write([]byte("onramp key check value"))
	return hex.EncodeToString(m.Sum(nil))
}
