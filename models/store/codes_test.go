package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"onramp/migrations"
	"onramp/models"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

// A batch of "Generate for new users" plans its claim of users for the batch's own parameters,
// without JIT (PostgreSQL: a generic plan made while the codes table was empty scanned it for
// every user), and then gives the plan settings back: the statements that follow in the
// batch's transaction (the inserts, whose foreign key checks run a cached plan per row) keep
// theirs. A small claim keeps the connection's plans.
func TestClaimUsersWithoutCodeIsPlannedForItsBatch(t *testing.T) {
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
	var statements []string
	if err := s.Trace(func(sql string, _ []any) { statements = append(statements, sql) }); err != nil {
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
		taken, claimed, err := tx.ClaimUsersWithoutCode(ctx, a.ID, 0, u.ID, 5000) // a run's batch
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
	// BEGIN, the custom plans, the lock, the look at the codes, the settings back, COMMIT.
	var shape []string
	for _, q := range statements {
		switch {
		case strings.Contains(q, "force_custom_plan"):
			shape = append(shape, "custom")
		case strings.Contains(q, "TO DEFAULT"):
			shape = append(shape, "back")
		case strings.Contains(q, "FOR NO KEY UPDATE"):
			shape = append(shape, "lock")
		case strings.Contains(q, "unnest"):
			shape = append(shape, "codes")
		}
	}
	if want := []string{"custom", "lock", "codes", "back"}; !slices.Equal(shape, want) {
		t.Errorf("statements %q, want %q:\n%s", shape, want, strings.Join(statements, "\n"))
	}

	// A claim of fewer than 100 users keeps the connection's plans: the two more round trips
	// would cost more than they save.
	statements = nil
	err = s.Tx(ctx, func(tx *store.Store) error {
		_, _, err := tx.ClaimUsersWithoutCode(ctx, a.ID, 0, u.ID, 50)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range statements {
		if strings.Contains(q, "force_custom_plan") || strings.Contains(q, "TO DEFAULT") {
			t.Errorf("a claim of 50 users changed the plan settings: %s", q)
		}
	}
}
