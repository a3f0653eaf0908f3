package codes

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"

	"onramp/models/secret"
	"onramp/models/store"
)

// Sealer keeps codes at rest: Lookup is a keyed hash that finds a code on redemption without
// storing it; Seal and Open encrypt the copy admins may download while the code is active.
// During a rotation of ONRAMP_SECRET it seals and hashes under the current secret, and also
// opens and finds what the previous one made.
type Sealer struct {
	lookupKeys [][]byte
	aeads      []cipher.AEAD
}

// NewSealer derives its keys from the deployment secret (and the previous one, if any).
func NewSealer(keys *secret.Keys) *Sealer {
	s := &Sealer{lookupKeys: keys.DeriveAll("registration-code-lookup")}
	for _, k := range keys.DeriveAll("registration-code-encryption") {
		block, err := aes.NewCipher(k)
		if err != nil {
			panic(err) // a 32-byte key always makes an AES-256 cipher
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			panic(err)
		}
		s.aeads = append(s.aeads, aead)
	}
	return s
}

// Lookup is the HMAC-SHA256 of a normalised code under the current secret, hex.
func (s *Sealer) Lookup(code string) string { return lookup(s.lookupKeys[0], code) }

// Lookups are the code's lookup hashes under the current secret, then the previous one.
func (s *Sealer) Lookups(code string) []string {
	out := make([]string, len(s.lookupKeys))
	for i, k := range s.lookupKeys {
		out[i] = lookup(k, code)
	}
	return out
}

func lookup(key []byte, code string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}

// Seal encrypts a code for an account with AES-256-GCM; the account id is bound as associated
// data, so a sealed code copied to another account's row does not open.
func (s *Sealer) Seal(accountID int64, code string) string {
	aead := s.aeads[0]
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := aead.Seal(nonce, nonce, []byte(code), ad(accountID))
	return base64.RawStdEncoding.EncodeToString(out)
}

// ErrUnsealable is a sealed code that does not decrypt (wrong key, wrong account, tampered).
var ErrUnsealable = errors.New("registration code does not decrypt")

// Open decrypts a sealed code of an account.
func (s *Sealer) Open(accountID int64, sealed string) (string, error) {
	code, _, err := s.open(accountID, sealed)
	return code, err
}

// Reseal returns a sealed code and its lookup hash under the current secret, and whether they
// changed (the code was sealed under the previous one).
func (s *Sealer) Reseal(accountID int64, sealed, lookupHash string) (string, string, bool, error) {
	code, current, err := s.open(accountID, sealed)
	if err != nil || current && lookupHash == s.Lookup(code) {
		return sealed, lookupHash, false, err
	}
	return s.Seal(accountID, code), s.Lookup(code), true, nil
}

// open decrypts a sealed code and says whether the current secret did.
func (s *Sealer) open(accountID int64, sealed string) (string, bool, error) {
	raw, err := base64.RawStdEncoding.DecodeString(sealed)
	n := s.aeads[0].NonceSize()
	if err != nil || len(raw) < n {
		return "", false, ErrUnsealable
	}
	for i, aead := range s.aeads {
		if plain, err := aead.Open(nil, raw[:n], raw[n:], ad(accountID)); err == nil {
			return string(plain), i == 0, nil
		}
	}
	return "", false, ErrUnsealable
}

func ad(accountID int64) []byte { return []byte("account:" + strconv.FormatInt(accountID, 10)) }

// Reseal rewrites the sealed copies and lookup hashes of active codes made under the previous
// ONRAMP_SECRET under the current one (onramp secret reseal), so that they stay redeemable and
// downloadable once the previous secret is gone.
func (s *Service) Reseal(ctx context.Context) (store.Resealed, error) {
	return s.store.Reseal(ctx, store.SealedCodes, func(v store.Sealed) (store.Sealed, bool, error) {
		sealed, lookup, changed, err := s.sealer.Reseal(v.AccountID, v.Value, v.Lookup)
		if err != nil {
			return v, false, store.ErrUnreadable
		}
		v.Value, v.Lookup = sealed, lookup
		return v, changed, nil
	})
}
