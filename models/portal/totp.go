package portal

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"onramp/models"
	"onramp/models/store"
)

// TOTP parameters: the ones every authenticator app understands (RFC 6238 defaults).
const (
	totpPeriod = 30 * time.Second
	// enrollTTL is how long a started enrollment can be confirmed: time enough to install an
	// authenticator app.
	enrollTTL = 30 * time.Minute
	qrSize    = 240
)

var totpOpts = totp.ValidateOpts{Period: uint(totpPeriod / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// Enrollment is a TOTP key waiting for its first code. Nothing is stored until the code is
// confirmed: the key travels in Pending, sealed (AES-256-GCM) to this user and session, so that
// an abandoned enrollment leaves nothing behind and a forged one does not open.
type Enrollment struct {
	Secret  string // base32, for typing into the app by hand
	QRCode  string // data: URL of a PNG of the otpauth:// URL
	Pending string // for the confirmation form's hidden field
}

// BeginTOTP starts an enrollment with a new random key. A user who has MFA already gets
// models.ErrConflict.
func (s *Service) BeginTOTP(cur *Current) (*Enrollment, error) {
	if cur.User.MFAConfigured {
		return nil, fmt.Errorf("%w: two-step verification is already set up", models.ErrConflict)
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      "Onramp (" + cur.Account.Name + ")",
		AccountName: cur.User.Email,
		Period:      totpOpts.Period,
		Digits:      totpOpts.Digits,
		Algorithm:   totpOpts.Algorithm,
	})
	if err != nil {
		return nil, err
	}
	exp := s.now().Add(enrollTTL).Unix()
	pending := s.box.seal(strconv.FormatInt(exp, 10)+"|"+key.URL(), enrollAAD(cur))
	return enrollment(key, pending)
}

// ResumeTOTP rebuilds the enrollment of a pending value, to show the same key again after a
// wrong code. An expired or foreign pending value gives a fresh enrollment.
func (s *Service) ResumeTOTP(cur *Current, pending string) (*Enrollment, error) {
	key, err := s.openPending(cur, pending)
	if err != nil {
		return s.BeginTOTP(cur)
	}
	return enrollment(key, pending)
}

// ConfirmTOTP checks a code against a pending enrollment and, when it is right, stores the key
// (encrypted) and marks the user as having MFA.
func (s *Service) ConfirmTOTP(ctx context.Context, cur *Current, pending, code, ip string) error {
	u := cur.User
	if u.MFAConfigured {
		return fmt.Errorf("%w: two-step verification is already set up", models.ErrConflict)
	}
	if err := s.checkLimit(u); err != nil {
		return err
	}
	key, err := s.openPending(cur, pending)
	if err != nil {
		return models.NewValidationError("", "The setup took too long. Scan the new code below and try again.")
	}
	step := matchStep(key.Secret(), code, s.now())
	if step == 0 {
		s.checks.Fail(userKey(u))
		return models.NewValidationError("totp", "The code is not right. Enter the 6 digits your app shows now.")
	}
	sealed := s.box.seal(key.Secret(), secretAAD(u))
	return s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.UpdateUser(ctx, u.AccountID, u.ID, map[string]any{
			"mfa_configured": true, "totp_secret": sealed, "totp_last_step": step}); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.UserEvent(u, models.EventUser, models.SubMFAEnrolled, models.UserActor(u, ip),
			map[string]string{"method": "totp"}))
	})
}

// RemoveTOTP turns MFA off after checking a current code or, for someone who lost the
// authenticator, the password.
func (s *Service) RemoveTOTP(ctx context.Context, cur *Current, code, pw, ip string) error {
	u := cur.User
	if !u.MFAConfigured {
		return nil
	}
	if err := s.checkLimit(u); err != nil {
		return err
	}
	how := ""
	switch {
	case strings.TrimSpace(code) != "":
		step, err := s.checkCode(ctx, u, code)
		if err != nil {
			return err
		}
		if step == 0 {
			s.checks.Fail(userKey(u))
			return models.NewValidationError("totp", "The code is not right. Enter the 6 digits your app shows now.")
		}
		how = "authenticator code"
	case pw != "":
		if !s.hasher.Verify(pw, u.PasswordHash) {
			s.checks.Fail(userKey(u))
			return models.NewValidationError("password", "This is not your current password.")
		}
		how = "password"
	default:
		return models.NewValidationError("totp", "Enter the code your authenticator app shows, or your password.")
	}
	return s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.UpdateUser(ctx, u.AccountID, u.ID, map[string]any{"mfa_configured": false, "totp_secret": ""}); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.UserEvent(u, models.EventUser, models.SubMFARemoved, models.UserActor(u, ip),
			map[string]string{"verified_with": how}))
	})
}

// TOTPSecret decrypts a user's stored TOTP key (base32). The key never leaves the service but
// for this: tests compute codes from it.
func (s *Service) TOTPSecret(u *models.SDPUser) (string, error) {
	if u.TOTPSecret == "" {
		return "", models.ErrNotFound
	}
	return s.box.open(u.TOTPSecret, secretAAD(u))
}

// checkCode returns the time step a user's code is valid for and records it as used, or 0 when
// the code is wrong or was used already (RFC 6238 §5.2: a code is accepted once).
func (s *Service) checkCode(ctx context.Context, u *models.SDPUser, code string) (int64, error) {
	key, err := s.TOTPSecret(u)
	if err != nil {
		return 0, fmt.Errorf("portal: TOTP key of user %d: %w", u.ID, err)
	}
	step := matchStep(key, code, s.now())
	if step == 0 {
		return 0, nil
	}
	switch err := s.store.RecordTOTPStep(ctx, u.ID, step); {
	case errors.Is(err, models.ErrNotFound):
		return 0, nil // replayed
	case err != nil:
		return 0, err
	}
	return step, nil
}

// matchStep returns the time step that code is valid for, allowing one step of clock drift
// either way, or 0.
func matchStep(key, code string, now time.Time) int64 {
	code = strings.Join(strings.Fields(code), "")
	if len(code) != totpOpts.Digits.Length() {
		return 0
	}
	for _, drift := range []time.Duration{0, -totpPeriod, totpPeriod} {
		at := now.Add(drift)
		if ok, err := totp.ValidateCustom(code, key, at, totpOpts); err == nil && ok {
			return at.Unix() / int64(totpPeriod/time.Second)
		}
	}
	return 0
}

func (s *Service) openPending(cur *Current, pending string) (*otp.Key, error) {
	plain, err := s.box.open(pending, enrollAAD(cur))
	if err != nil {
		return nil, err
	}
	expS, url, ok := strings.Cut(plain, "|")
	exp, perr := strconv.ParseInt(expS, 10, 64)
	if !ok || perr != nil || s.now().Unix() > exp {
		return nil, errors.New("portal: enrollment expired")
	}
	return otp.NewKeyFromURL(url)
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

// Associated data binds a ciphertext to its purpose and owner: a stored key copied to another
// user's row, or a pending enrollment posted from another session, does not decrypt.
func secretAAD(u *models.SDPUser) string { return "totp-secret|" + strconv.FormatInt(u.ID, 10) }

func enrollAAD(cur *Current) string {
	return "totp-enroll|" + strconv.FormatInt(cur.User.ID, 10) + "|" + cur.SessionID
}

// sealer encrypts short strings with AES-256-GCM; the output is base64url(nonce || ciphertext).
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) *sealer {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // the key is always 32 bytes (secret.Keys.Derive)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &sealer{aead: aead}
}

func (b *sealer) seal(plain, aad string) string {
	nonce := make([]byte, b.aead.NonceSize())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b.aead.Seal(nonce, nonce, []byte(plain), []byte(aad)))
}

func (b *sealer) open(sealed, aad string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", errors.New("portal: malformed ciphertext")
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(aad))
	if err != nil {
		return "", errors.New("portal: ciphertext does not open")
	}
	return string(plain), nil
}
