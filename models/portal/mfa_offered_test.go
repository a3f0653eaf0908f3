package portal

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"onramp/models"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

// TestEnrollmentWaitsForAMethodSwitch: an MFA enrollment confirmed while a switch to
// Registration Code is being saved waits for the switch, then is refused: no user ends up
// with MFA under a method that does not support it.
func TestEnrollmentWaitsForAMethodSwitch(t *testing.T) {
	t.Parallel()
	svc, s := newService(t)
	acc, u := newUser(t, s)
	ctx := context.Background()
	cur := &Current{User: u, Account: acc, SessionID: "s1"}
	e, err := svc.BeginTOTP(cur)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(e.Secret, time.Now())

	// A switch being saved: the account's row held, the method changed, not yet committed.
	err = storetest.WhileHeld(t, s, func(tx *store.Store) error {
		a, err := tx.LockAccount(ctx, acc.ID)
		if err != nil {
			return err
		}
		a.ProvisioningMethod = models.MethodRegistrationCode
		return tx.SaveProvisioning(ctx, a)
	}, func() error { return svc.ConfirmTOTP(ctx, cur, e.Pending, code, "198.51.100.7") })
	if !errors.Is(err, ErrMFANotOffered) {
		t.Fatalf("confirmation during the switch: %v, want ErrMFANotOffered", err)
	}
	if got, _ := s.User(ctx, acc.ID, u.ID); got.MFAConfigured {
		t.Fatal("MFA enrolled under Registration Code")
	}
}
