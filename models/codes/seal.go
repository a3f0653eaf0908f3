package codes

import (
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
)

// Sealer keeps codes at rest: Lookup is a keyed hash that finds a code on redemption without
// storing it; Seal and Open encrypt the copy admins may download while the code is active.
type Sealer struct {
	lookupKey []byte
	aead      cipher.AEAD
}

// NewSealer derives its two keys from the deployment secret.
func NewSealer(keys *secret.Keys) *Sealer {
	block, err := aes.NewCipher(keys.Derive("registration-code-encryption"))
	if err != nil {
		panic(err) // a 32-byte key always makes an AES-256 cipher
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &Sealer{lookupKey: keys.Derive("registration-code-lookup"), aead: aead}
}

// Lookup is the HMAC-SHA256 of a normalised code, hex.
func (s *Sealer) Lookup(code string) string {
	m := hmac.New(sha256.New, s.lookupKey)
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}

// Seal encrypts a code for an account with AES-256-GCM; the account id is bound as associated
// data, so a sealed code copied to another account's row does not open.
func (s *Sealer) Seal(accountID int64, code string) string {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := s.aead.Seal(nonce, nonce, []byte(code), ad(accountID))
	return base64.RawStdEncoding.EncodeToString(out)
}

// ErrUnsealable is a sealed code that does not decrypt (wrong key, wrong account, tampered).
var ErrUnsealable = errors.New("registration code does not decrypt")

// Open decrypts a sealed code of an account.
func (s *Sealer) Open(accountID int64, sealed string) (string, error) {
	raw, err := base64.RawStdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return "", ErrUnsealable
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], ad(accountID))
	if err != nil {
		return "", ErrUnsealable
	}
	return string(plain), nil
}

func ad(accountID int64) []byte { return []byte("account:" + strconv.FormatInt(accountID, 10)) }
