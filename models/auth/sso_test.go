package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"onramp/models"
	"onramp/models/auth"
)

// addAdmin adds an admin to the fixture's account; hash "" leaves them without a password.
func (f *fixture) addAdmin(email string, role models.Role, status models.AdminStatus, hash string) *models.Admin {
	f.t.Helper()
	a := &models.Admin{AccountID: f.admin.AccountID, Email: email, Name: email, Role: role, Status: status, PasswordHash: hash}
	if err := f.store.CreateAdmin(context.Background(), a); err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *fixture) current() *auth.Current {
	acc, err := f.store.Account(context.Background(), f.admin.AccountID)
	if err != nil {
		f.t.Fatal(err)
	}
	return &auth.Current{Admin: f.admin, Account: acc}
}

// Turning password sign-in off needs a break-glass admin who can still sign in with a password:
// enabled, role admin, a password set. Anything else is a clear error on the field, and nothing
// is saved.
func TestConsoleSSOSaveNeedsAUsableBreakGlassAdmin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	helpdesk := f.addAdmin("hal@example.com", models.RoleHelpdesk, models.AdminActive, f.admin.PasswordHash)
	disabled := f.addAdmin("dis@example.com", models.RoleAdmin, models.AdminDisabled, f.admin.PasswordHash)
	pending := f.addAdmin("new@example.com", models.RoleAdmin, models.AdminActive, "")
	otherAccount := models.NewAccount("globex")
	if err := f.store.CreateAccount(ctx, otherAccount); err != nil {
		t.Fatal(err)
	}
	other := &models.Admin{AccountID: otherAccount.ID, Email: "eve@example.com", Name: "Eve", Role: models.RoleAdmin,
		Status: models.AdminActive, PasswordHash: f.admin.PasswordHash}
	if err := f.store.CreateAdmin(ctx, other); err != nil {
		t.Fatal(err)
	}
	off := auth.ConsoleSSOInput{Enabled: true, PasswordSignIn: false}
	for name, ids := range map[string][]int64{
		"none":                   nil,
		"helpdesk only":          {helpdesk.ID},
		"disabled admin":         {disabled.ID},
		"admin without password": {pending.ID},
	} {
		in := off
		in.BreakGlass = ids
		err := f.svc.SaveConsoleSSO(ctx, f.current(), in, "192.0.2.1")
		var ve *models.ValidationError
		if !errors.As(err, &ve) || ve.Fields["break_glass"] == "" {
			t.Fatalf("%s: err = %v, want a break_glass field error", name, err)
		}
	}
	in := off
	in.BreakGlass = []int64{other.ID}
	if err := f.svc.SaveConsoleSSO(ctx, f.current(), in, "192.0.2.1"); err == nil {
		t.Fatal("another account's admin was accepted as a break-glass admin")
	}
	c, err := f.svc.ConsoleSSO(ctx, f.admin.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Enabled || !c.PasswordSignIn {
		t.Fatalf("a refused save changed the settings: %+v", c)
	}
	// With password sign-in on, no break-glass admin is needed.
	if err := f.svc.SaveConsoleSSO(ctx, f.current(), auth.ConsoleSSOInput{Enabled: true, PasswordSignIn: true}, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	in.BreakGlass = []int64{f.admin.ID, helpdesk.ID}
	if err := f.svc.SaveConsoleSSO(ctx, f.current(), in, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if c, _ = f.svc.ConsoleSSO(ctx, f.admin.AccountID); !c.Enabled || c.PasswordSignIn {
		t.Fatalf("settings = %+v", c)
	}
	for _, a := range []*models.Admin{f.admin, helpdesk, disabled, pending} {
		got, _ := f.store.Admin(ctx, a.AccountID, a.ID)
		if want := a.ID == f.admin.ID || a.ID == helpdesk.ID; got.BreakGlass != want {
			t.Errorf("%s: break glass = %v, want %v", a.Email, got.BreakGlass, want)
		}
	}
}

// Creating admins needs at least one group to map a role from.
func TestConsoleSSOCreateAdminsNeedsAGroup(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	err := f.svc.SaveConsoleSSO(context.Background(), f.current(),
		auth.ConsoleSSOInput{Enabled: true, PasswordSignIn: true, CreateAdmins: true, AdminGroups: " , "}, "192.0.2.1")
	var ve *models.ValidationError
	if !errors.As(err, &ve) || ve.Fields["admin_groups"] == "" {
		t.Fatalf("err = %v, want an admin_groups error", err)
	}
}

// With password sign-in off, only break-glass admins sign in with a password; the others get
// ErrPasswordOff (after the right password only) and a Sign-in Failed event with the reason.
func TestPasswordSignInOffForAllButBreakGlass(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	bob := f.addAdmin("bob@example.com", models.RoleAdmin, models.AdminActive, f.admin.PasswordHash)
	err := f.svc.SaveConsoleSSO(ctx, f.current(), auth.ConsoleSSOInput{Enabled: true, BreakGlass: []int64{f.admin.ID}}, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.SignIn(ctx, auth.SignInInput{Email: "bob@example.com", Password: pw}, "192.0.2.7", "test"); !errors.Is(err, auth.ErrPasswordOff) {
		t.Fatalf("bob with the right password: err = %v, want ErrPasswordOff", err)
	}
	if _, _, err := f.svc.SignIn(ctx, auth.SignInInput{Email: "bob@example.com", Password: "not the password"}, "192.0.2.7", "test"); errors.Is(err, auth.ErrPasswordOff) || !errors.Is(err, models.ErrUnauthorized) {
		t.Fatalf("bob with a wrong password: err = %v, want ErrUnauthorized only", err)
	}
	if _, err := f.signIn(pw, ""); err != nil {
		t.Fatalf("the break-glass admin: %v", err)
	}
	n := 0
	for _, e := range mustEvents(t, f) {
		if e.SubType == models.SubSignInFailed && e.Email == bob.Email &&
			strings.Contains(e.Details, "password sign-in turned off: not a break-glass admin") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d refusal events, want 1", n)
	}
}
