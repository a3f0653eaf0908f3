package portal

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"onramp/models"
	"onramp/models/store"
	"onramp/models/twostep"
)

// Enrollment is a TOTP key waiting for its first code (see twostep.Enrollment): the pending
// value is sealed to this user and session.
type Enrollment = twostep.Enrollment

// ErrMFANotOffered: the account uses the Registration Code method, whose codes do not support
// MFA, so no user of it may enroll.
var ErrMFANotOffered = fmt.Errorf("%w: MFA is not offered under the Registration Code method", models.ErrForbidden)

// BeginTOTP starts an enrollment with a new random key. A user who has MFA already gets
// models.ErrConflict; under the Registration Code method, ErrMFANotOffered.
func (s *Service) BeginTOTP(cur *Current) (*Enrollment, error) {
	if cur.User.MFAConfigured {
		return nil, fmt.Errorf("%w: two-step verification is already set up", models.ErrConflict)
	}
	if !cur.Account.OffersMFA() {
		return nil, ErrMFANotOffered
	}
	return twostep.Begin(s.box.Sealer, "Onramp ("+cur.Account.Name+")", cur.User.Email, enrollAAD(cur), s.now())
}

// ResumeTOTP rebuilds the enrollment of a pending value, to show the same key again after a
// wrong code. An expired or foreign pending value gives a fresh enrollment.
func (s *Service) ResumeTOTP(cur *Current, pending string) (*Enrollment, error) {
	e, err := twostep.Resume(s.box.Sealer, pending, enrollAAD(cur), s.now())
	if err != nil {
		return s.BeginTOTP(cur)
	}
	return e, nil
}

// ConfirmTOTP checks a code against a pending enrollment and, when it is right, stores the key
// (encrypted) and marks the user as having MFA. An enrollment begun before the account
// switched to Registration Code is refused (ErrMFANotOffered): the method is read again in the
// transaction that stores the key, with the account's row held, so that a switch being saved
// (which holds it too while it counts MFA users) and this enrollment take turns.
func (s *Service) ConfirmTOTP(ctx context.Context, cur *Current, pending, code, ip string) error {
	u := cur.User
	if u.MFAConfigured {
		return fmt.Errorf("%w: two-step verification is already set up", models.ErrConflict)
	}
	sealed, step, err := twostep.Confirm(s.box.Sealer, s.budget(u), twostep.AAD{Enroll: enrollAAD(cur), Secret: secretAAD(u)},
		pending, code, s.now())
	if err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx *store.Store) error {
		account, err := tx.LockAccount(ctx, u.AccountID)
		if err != nil {
			return err
		}
		if !account.OffersMFA() {
			return ErrMFANotOffered
		}
		if err := tx.SetUserTOTP(ctx, u.AccountID, u.ID, sealed, step); err != nil {
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
	how, err := twostep.Prove(s.budget(u), code, pw,
		func(code string) (int64, error) { return s.checkCode(ctx, u, code) },
		func(pw string) (bool, error) { return s.hasher.Verify(pw, u.PasswordHash) })
	if err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.ClearUserTOTP(ctx, u.AccountID, u.ID); err != nil {
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
// the code is wrong or was used already.
func (s *Service) checkCode(ctx context.Context, u *models.SDPUser, code string) (int64, error) {
	key, err := s.TOTPSecret(u)
	if err != nil {
		return 0, fmt.Errorf("portal: TOTP key of user %d: %w", u.ID, err)
	}
	return twostep.Verify(key, code, s.now(), func(step int64) error { return s.store.RecordTOTPStep(ctx, u.ID, step) })
}

// matchStep is twostep.MatchStep under the name the portal's tests know it by.
func matchStep(key, code string, now time.Time) int64 { return twostep.MatchStep(key, code, now) }

// budget is the user's failure limit of secret checks while signed in.
func (s *Service) budget(u *models.SDPUser) twostep.Budget { return s.sessions.Budget(u.ID) }

// Associated data binds a ciphertext to its purpose and owner: a stored key copied to another
// user's row, or a pending enrollment posted from another session, does not decrypt. These
// strings are part of the stored format: changing them makes every stored key unreadable.
func secretAAD(u *models.SDPUser) string { return "totp-secret|" + strconv.FormatInt(u.ID, 10) }

func enrollAAD(cur *Current) string {
	return "totp-enroll|" + strconv.FormatInt(cur.User.ID, 10) + "|" + cur.SessionID
}

// sealer is the portal's twostep.Sealer, under the key derived for "totp".
type sealer struct{ *twostep.Sealer }

func newSealer(keys [][]byte) *sealer { return &sealer{twostep.NewSealer(keys...)} }

func (b *sealer) seal(plain, aad string) string { return b.Seal(plain, aad) }

func (b *sealer) open(sealed, aad string) (string, error) { return b.Open(sealed, aad) }

// ResealTOTP rewrites SDP users' TOTP keys sealed under the previous ONRAMP_SECRET under the
// current one (onramp secret reseal).
func (s *Service) ResealTOTP(ctx context.Context) (store.Resealed, error) {
	return twostep.Reseal(ctx, s.store, store.SealedUserTOTP, s.box.Sealer, func(v store.Sealed) string {
		return secretAAD(&models.SDPUser{ID: v.ID})
	})
}
