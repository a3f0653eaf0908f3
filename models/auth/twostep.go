package auth

import (
	"context"
	"fmt"
	"strconv"

	"onramp/models"
	"onramp/models/store"
	"onramp/models/twostep"
)

// Two-step verification (TOTP) of the signed-in admin. The primitives are the portal's
// (models/twostep); the key, the associated data, the table and the events are the console's.
//
// Sessions: turning it on ends the admin's other sessions (they were opened with the password
// alone; from now on every session has passed the code, as after a password change), and keeps
// the one in use. Turning it off ends none: it lowers what the next sign-in asks, and sessions
// that passed the code are no weaker for it.

// BeginTOTP starts an enrollment with a new random key; an admin who has one already gets
// models.ErrConflict.
func (s *Service) BeginTOTP(cur *Current) (*twostep.Enrollment, error) {
	if cur.Admin.HasTOTP() {
		return nil, fmt.Errorf("%w: two-step verification is already on", models.ErrConflict)
	}
	return twostep.Begin(s.box, "Onramp console ("+cur.Account.Name+")", cur.Admin.Email, adminEnrollAAD(cur), s.now())
}

// ResumeTOTP shows a pending enrollment's key again (after a wrong code); an expired or
// foreign pending value gives a fresh enrollment.
func (s *Service) ResumeTOTP(cur *Current, pending string) (*twostep.Enrollment, error) {
	if e, err := twostep.Resume(s.box, pending, adminEnrollAAD(cur), s.now()); err == nil {
		return e, nil
	}
	return s.BeginTOTP(cur)
}

// ConfirmTOTP checks the first code of a pending enrollment and, when it is right, stores the
// key (sealed) and ends the admin's other sessions. Wrong codes count against the admin's
// check limit.
func (s *Service) ConfirmTOTP(ctx context.Context, cur *Current, pending, code, ip string) error {
	a := cur.Admin
	if a.HasTOTP() {
		return fmt.Errorf("%w: two-step verification is already on", models.ErrConflict)
	}
	aad := twostep.AAD{Enroll: adminEnrollAAD(cur), Secret: adminSecretAAD(a)}
	sealed, step, err := twostep.Confirm(s.box, s.budget(a), aad, pending, code, s.now())
	if err != nil {
		return err
	}
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.SetAdminTOTP(ctx, a.AccountID, a.ID, sealed, step); err != nil {
			return err
		}
		if err := s.sessions.EndOthers(ctx, tx, a.ID, cur.SessionID); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.NewEvent(&a.AccountID, models.EventAdmin, models.SubMFAEnrolled,
			models.AdminActor(a, ip), a.Email, map[string]string{"method": "totp"}))
	})
	if err == nil {
		a.TOTPSecret, a.TOTPLastStep = sealed, step
	}
	return err
}

// RemoveTOTP turns the signed-in admin's two-step verification off after checking a current
// code or, for someone who lost the authenticator, the password.
func (s *Service) RemoveTOTP(ctx context.Context, cur *Current, code, pw, ip string) error {
	a := cur.Admin
	if !a.HasTOTP() {
		return nil
	}
	how, err := twostep.Prove(s.budget(a), code, pw,
		func(code string) (int64, error) { return s.checkCode(ctx, a, code) },
		func(pw string) (bool, error) { return s.hasher.Verify(pw, a.PasswordHash) })
	if err != nil {
		return err
	}
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.ClearAdminTOTP(ctx, a.AccountID, a.ID); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.NewEvent(&a.AccountID, models.EventAdmin, models.SubMFARemoved,
			models.AdminActor(a, ip), a.Email, map[string]string{"verified_with": how}))
	})
	if err == nil {
		a.TOTPSecret = ""
	}
	return err
}

// checkCode returns the time step an admin's code is valid for and records it as used, or 0
// when the code is wrong or was used already.
func (s *Service) checkCode(ctx context.Context, a *models.Admin, code string) (int64, error) {
	key, err := s.box.Open(a.TOTPSecret, adminSecretAAD(a))
	if err != nil {
		return 0, fmt.Errorf("auth: TOTP key of admin %d: %w", a.ID, err)
	}
	return twostep.Verify(key, code, s.now(), func(step int64) error {
		return s.store.RecordAdminTOTPStep(ctx, a.AccountID, a.ID, step)
	})
}

// budget is the admin's failure limit of secret checks while signed in.
func (s *Service) budget(a *models.Admin) twostep.Budget { return s.sessions.Budget(a.ID) }

// Associated data binds a ciphertext to its purpose and owner (see twostep.Sealer). The
// prefixes differ from the portal's, and so does the key: an SDP user's sealed key copied into
// an admin row does not open. They are part of the stored format.
func adminSecretAAD(a *models.Admin) string {
	return "admin-totp-secret|" + strconv.FormatInt(a.ID, 10)
}

func adminEnrollAAD(cur *Current) string {
	return "admin-totp-enroll|" + strconv.FormatInt(cur.Admin.ID, 10) + "|" + cur.SessionID
}

// ResealTOTP rewrites admins' TOTP keys sealed under the previous ONRAMP_SECRET under the
// current one (onramp secret reseal).
func (s *Service) ResealTOTP(ctx context.Context) (store.Resealed, error) {
	return twostep.Reseal(ctx, s.store, store.SealedAdminTOTP, s.box, func(v store.Sealed) string {
		return adminSecretAAD(&models.Admin{ID: v.ID})
	})
}
