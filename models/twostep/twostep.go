// Package twostep owns the TOTP primitives (RFC 6238) that both two-step verifications share:
// the MyVPN portal's, for SDP users (models/portal), and the console's, for admins
// (models/auth). It makes keys and their enrollment QR codes, seals a pending enrollment and a
// stored key with AES-256-GCM bound to caller-given associated data, matches codes with one step
// of clock drift, and checks the proof asked before turning verification off. It stores
// nothing: each caller keeps its own key, associated data, table and events.
package twostep

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"image/png"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"onramp/models"
	"onramp/models/ratelimit"
)

// TOTP parameters: the ones every authenticator app understands (RFC 6238 defaults).
const (
	Period = 30 * time.Second
	// EnrollTTL is how long a started enrollment can be confirmed: time enough to install an
	// authenticator app.
	EnrollTTL = 30 * time.Minute
	qrSize    = 240
)

var opts = totp.ValidateOpts{Period: uint(Period / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// The messages both verifications answer with, so that the portal and the console say the
// same thing about the same mistake.
const (
	WrongCodeMessage     = "The code is not right. Enter the 6 digits your app shows now."
	ExpiredMessage       = "The setup took too long. Scan the new code below and try again."
	WrongPasswordMessage = "This is not your current password."
	NoProofMessage       = "Enter the code your authenticator app shows, or your password."
)

// WrongCode is the validation error of a code that is not right, on the form's totp field.
func WrongCode() *models.ValidationError { return models.NewValidationError("totp", WrongCodeMessage) }

// AAD is the associated data a caller binds its ciphertexts to: Enroll for a pending
// enrollment (its owner and session), Secret for the stored key (its owner). Both are part of
// the caller's stored format.
type AAD struct{ Enroll, Secret string }

// Budget is the failure limit of one owner's secret checks while signed in (confirming a set-up,
// turning verification off): a stolen session must not be able to guess the code.
type Budget struct {
	Limiter *ratelimit.Limiter
	Key     string
}

// Take spends a token of the owner's budget before a check, or refuses with a
// *models.RateLimitError once the owner failed too often. Taking before checking is what holds
// the limit when many checks arrive at once; Give returns the token of a check that did not
// fail.
func (b Budget) Take() error {
	if ok, wait := b.Limiter.Take(b.Key); !ok {
		return &models.RateLimitError{RetryAfter: wait}
	}
	return nil
}

// Give returns the token of a check that did not fail.
func (b Budget) Give() { b.Limiter.Give(b.Key) }

// Enrollment is a TOTP key waiting for its first code. Nothing is stored until the code is
// confirmed: the key travels in Pending, sealed to its owner and session, so that an abandoned
// enrollment leaves nothing behind and a forged one does not open.
type Enrollment struct {
	Secret  string // base32, for typing into the app by hand
	QRCode  string // data: URL of a PNG of the otpauth:// URL
	Pending string // for the confirmation form's hidden field
}

// Begin makes a new random key for accountName at issuer (what the app shows) and seals it,
// with its expiry, under aad.
func Begin(box *Sealer, issuer, accountName, aad string, now time.Time) (*Enrollment, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: accountName,
		Period:      opts.Period,
		Digits:      opts.Digits,
		Algorithm:   opts.Algorithm,
	})
	if err != nil {
		return nil, err
	}
	exp := now.Add(EnrollTTL).Unix()
	return enrollment(key, box.Seal(strconv.FormatInt(exp, 10)+"|"+key.URL(), aad))
}

// Resume rebuilds the enrollment of a pending value, to show the same key again after a wrong
// code. It fails like OpenPending.
func Resume(box *Sealer, pending, aad string, now time.Time) (*Enrollment, error) {
	key, err := openPending(box, pending, aad, now)
	if err != nil {
		return nil, err
	}
	return enrollment(key, pending)
}

// OpenPending returns the key (base32) of a pending enrollment, or an error when it was sealed
// under other associated data (another owner or session), was tampered with, or expired.
func OpenPending(box *Sealer, pending, aad string, now time.Time) (string, error) {
	key, err := openPending(box, pending, aad, now)
	if err != nil {
		return "", err
	}
	return key.Secret(), nil
}

func openPending(box *Sealer, pending, aad string, now time.Time) (*otp.Key, error) {
	plain, err := box.Open(pending, aad)
	if err != nil {
		return nil, err
	}
	expS, url, ok := strings.Cut(plain, "|")
	exp, perr := strconv.ParseInt(expS, 10, 64)
	if !ok || perr != nil || now.Unix() > exp {
		return nil, errors.New("twostep: enrollment expired")
	}
	return otp.NewKeyFromURL(url)
}

// Confirm checks the first code of a pending enrollment and returns its key sealed for storage
// (under aad.Secret) and the time step the code was for, to record as used. An expired or
// foreign enrollment, or a wrong code (which spends a token of budget), gives a
// *models.ValidationError.
func Confirm(box *Sealer, budget Budget, aad AAD, pending, code string, now time.Time) (sealed string, step int64, err error) {
	if err := budget.Take(); err != nil {
		return "", 0, err
	}
	key, err := OpenPending(box, pending, aad.Enroll, now)
	if err != nil {
		budget.Give()
		return "", 0, models.NewValidationError("", ExpiredMessage)
	}
	if step = MatchStep(key, code, now); step == 0 {
		return "", 0, WrongCode() // the token stays spent
	}
	budget.Give()
	return box.Seal(key, aad.Secret), step, nil
}

func enrollment(key *otp.Key, pending string) (*Enrollment, error) {
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return &Enrollment{
		Secret:  key.Secret(),
		QRCode:  "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()),
		Pending: pending,
	}, nil
}

// MatchStep returns the time step that code is valid for, allowing one step of clock drift
// either way, or 0. Spaces in the code are ignored.
func MatchStep(key, code string, now time.Time) int64 {
	code = strings.Join(strings.Fields(code), "")
	if len(code) != opts.Digits.Length() {
		return 0
	}
	for _, drift := range []time.Duration{0, -Period, Period} {
		at := now.Add(drift)
		if ok, err := totp.ValidateCustom(code, key, at, opts); err == nil && ok {
			return at.Unix() / int64(Period/time.Second)
		}
	}
	return 0
}

// Verify returns the time step code is valid for once record accepted it, or 0 when the code
// is wrong or was used already (RFC 6238 §5.2: a code is accepted once). record stores the step
// only if it is later than the last one accepted and returns models.ErrNotFound otherwise, so
// that of two concurrent uses of one code only one wins.
func Verify(key, code string, now time.Time, record func(step int64) error) (int64, error) {
	step := MatchStep(key, code, now)
	if step == 0 {
		return 0, nil
	}
	switch err := record(step); {
	case errors.Is(err, models.ErrNotFound):
		return 0, nil // replayed
	case err != nil:
		return 0, err
	}
	return step, nil
}

// Prove checks what someone offers before turning their two-step verification off: a current
// code (checkCode returns its step, 0 when wrong) or, for someone who lost the authenticator,
// the password. It returns how they proved it, for the event. A wrong code or password spends
// a token of budget (an empty form does not) and gives a *models.ValidationError.
func Prove(budget Budget, code, pw string, checkCode func(string) (int64, error), checkPassword func(string) (bool, error)) (how string, err error) {
	if err := budget.Take(); err != nil {
		return "", err
	}
	switch {
	case strings.TrimSpace(code) != "":
		step, err := checkCode(code)
		if err != nil {
			budget.Give()
			return "", err
		}
		if step == 0 {
			return "", WrongCode() // the token stays spent
		}
		how = "authenticator code"
	case pw != "":
		ok, err := checkPassword(pw)
		if err != nil {
			budget.Give()
			return "", err
		}
		if !ok {
			return "", models.NewValidationError("password", WrongPasswordMessage)
		}
		how = "password"
	default:
		budget.Give()
		return "", models.NewValidationError("totp", NoProofMessage)
	}
	budget.Give()
	return how, nil
}

// Sealer encrypts short strings with AES-256-GCM; the output is base64url(nonce || ciphertext).
// The associated data binds a ciphertext to its purpose and owner: a stored key copied to
// another row, or a pending enrollment posted from another session, does not open. During a
// rotation of ONRAMP_SECRET it seals with the current key and opens with either.
type Sealer struct{ aeads []cipher.AEAD }

// NewSealer builds a sealer on 32-byte keys (secret.Keys.DeriveAll): it seals with the first
// and opens with any.
func NewSealer(keys ...[]byte) *Sealer {
	b := &Sealer{}
	for _, k := range keys {
		block, err := aes.NewCipher(k)
		if err != nil {
			panic(err) // the key is always 32 bytes (secret.Keys.Derive)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			panic(err)
		}
		b.aeads = append(b.aeads, aead)
	}
	return b
}

// Seal encrypts plain bound to aad.
func (b *Sealer) Seal(plain, aad string) string {
	aead := b.aeads[0]
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(plain), []byte(aad)))
}

// Open decrypts what Seal made with the same aad and the current or the previous key.
func (b *Sealer) Open(sealed, aad string) (string, error) {
	plain, _, err := b.open(sealed, aad)
	return plain, err
}

// Reseal returns sealed under the current key, and whether that changed it (it was sealed
// under the previous key).
func (b *Sealer) Reseal(sealed, aad string) (string, bool, error) {
	plain, current, err := b.open(sealed, aad)
	if err != nil || current {
		return sealed, false, err
	}
	return b.Seal(plain, aad), true, nil
}

// open decrypts sealed and says whether the current key did.
func (b *Sealer) open(sealed, aad string) (string, bool, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < b.aeads[0].NonceSize() {
		return "", false, errors.New("twostep: malformed ciphertext")
	}
	n := b.aeads[0].NonceSize()
	for i, aead := range b.aeads {
		if plain, err := aead.Open(nil, raw[:n], raw[n:], []byte(aad)); err == nil {
			return string(plain), i == 0, nil
		}
	}
	return "", false, errors.New("twostep: ciphertext does not open")
}
