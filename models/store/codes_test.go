package store_test

import (
	"context"
	"testing"

	"onramp/migrations"
	"onramp/models"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

// A batch of "Generate for new users" plans its claim of users for the batch's own parameters
// (PostgreSQL), and then gives the plan settings back: the statements that follow in the batch's
// transaction (the inserts, whose foreign key checks run a cached plan per row) keep theirs.
func TestClaimUsersWithoutCodeGivesThePlanSettingsBack(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	if s.Dialect() != migrations.Postgres {
		t.Skip("plan settings are PostgreSQL's")
	}
	ctx := context.Background()
	a := models.NewAccount("acme")
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	u := &models.SDPUser{AccountID: a.ID, FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com",
		Origin: models.OriginManual, Status: models.UserEnabled, Activation: models.ActivationNew}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	settings := func(tx *store.Store) (plan, jit string) {
		t.Helper()
		sqlTx, _ := tx.SQLTx()
		if err := sqlTx.QueryRowContext(ctx, "SELECT current_setting('plan_cache_mode'), current_setting('jit')").Scan(&plan, &jit); err != nil {
			t.Fatal(err)
		}
		return plan, jit
	}
	err := s.Tx(ctx, func(tx *store.Store) error {
		plan, jit := settings(tx)
		taken, claimed, err := tx.ClaimUsersWithoutCode(ctx, a.ID, 0, u.ID, 10)
		if err != nil {
			return err
		}
		if len(taken) != 1 || len(claimed) != 1 || claimed[0] != u.ID {
			t.Errorf("taken %v, claimed %v; want user %d", taken, claimed, u.ID)
		}
		if p, j := settings(tx); p != plan || j != jit {
			t.Errorf("after the claim: plan_cache_mode %s, jit %s; before: %s, %s", p, j, plan, jit)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
