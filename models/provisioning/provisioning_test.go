package provisioning

import (
	"context"
	"errors"
	"testing"

	"onramp/models"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

// TestSwitchWaitsForAnEnrollment: a switch to Registration Code saved while an MFA enrollment
// is being stored waits for it and counts the new MFA user, so it is refused.
func TestSwitchWaitsForAnEnrollment(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := context.Background()
	acc := models.NewAccount("acme")
	if err := s.CreateAccount(ctx, acc); err != nil {
		t.Fatal(err)
	}
	u := &models.SDPUser{AccountID: acc.ID, FirstName: "Grace", LastName: "Hopper", Email: "grace@example.com",
		Origin: models.OriginManual, Status: models.UserEnabled, Activation: models.ActivationActive}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	admin := &models.Admin{ID: 1, AccountID: acc.ID, Email: "boss@example.com", Role: models.RoleAdmin}
	next := FromAccount(acc)
	next.Method = models.MethodRegistrationCode

	// An enrollment in progress, as the portal stores one: the account's row held, the key set.
	err := storetest.WhileHeld(t, s, func(tx *store.Store) error {
		if _, err := tx.LockAccount(ctx, acc.ID); err != nil {
			return err
		}
		return tx.SetUserTOTP(ctx, acc.ID, u.ID, "sealed", 1)
	}, func() error {
		_, err := New(s).Save(ctx, admin, "198.51.100.7", next)
		return err
	})
	var mfa *MFAUsersError
	if !errors.As(err, &mfa) || mfa.Count != 1 {
		t.Fatalf("switch during an enrollment: %v, want MFAUsersError for 1 user", err)
	}
	if a, _ := s.Account(ctx, acc.ID); a.ProvisioningMethod != models.MethodInvitationEmail {
		t.Fatalf("method %q", a.ProvisioningMethod)
	}
}
