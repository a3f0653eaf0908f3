package services_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/codes"
	"onramp/models/devices"
	"onramp/models/directory"
	"onramp/models/mail"
	"onramp/models/secret"
	"onramp/models/services"
	"onramp/models/store"
	"onramp/models/store/storetest"
	"onramp/models/twostep"
	"onramp/views/emails"
)

var (
	oldSecret = []byte(strings.Repeat("old-secret-", 4))
	newSecret = []byte(strings.Repeat("new-secret-", 4))
)

func build(t *testing.T, s *store.Store, keys *secret.Keys) *services.Services {
	t.Helper()
	sv, err := services.New(s, services.Config{Keys: keys, Renderer: emails.NewRenderer("https://onramp.test"), BaseURL: "https://onramp.test",
		Mail: mail.Config{From: "Onramp <onramp@example.test>"}})
	if err != nil {
		t.Fatal(err)
	}
	return sv
}

// rotationData is one of each sealed kind, sealed under the old secret as the services seal it
// (their associated data is part of the stored format), and two codes of one user.
type rotationData struct {
	user         *models.SDPUser
	codeA, codeB string
}

func sealUnderOld(t *testing.T, s *store.Store) rotationData {
	t.Helper()
	ctx := t.Context()
	old := secret.NewKeys(oldSecret)
	if _, err := services.CheckKeys(ctx, s, old); err != nil {
		t.Fatal(err)
	}
	acct := models.NewAccount("acme")
	if err := s.CreateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	admin := &models.Admin{AccountID: acct.ID, Email: "ann@example.test", Name: "Ann", Role: models.RoleAdmin, Status: models.AdminActive}
	if err := s.CreateAdmin(ctx, admin); err != nil {
		t.Fatal(err)
	}
	box := func(purpose string) *twostep.Sealer { return twostep.NewSealer(old.Derive(purpose)) }
	if err := s.SetAdminTOTP(ctx, acct.ID, admin.ID, box("admin-totp").Seal("ADMINKEY", "admin-totp-secret|"+id(admin.ID)), 0); err != nil {
		t.Fatal(err)
	}
	mfa := &models.SDPUser{AccountID: acct.ID, FirstName: "Mo", LastName: "Fa", Email: "mo@example.test",
		Origin: models.OriginManual, Status: models.UserEnabled, Activation: models.ActivationNew}
	user := &models.SDPUser{AccountID: acct.ID, FirstName: "Grace", LastName: "Hopper", Email: "grace@example.test",
		Origin: models.OriginManual, Status: models.UserEnabled, Activation: models.ActivationNew}
	for _, u := range []*models.SDPUser{mfa, user} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetUserTOTP(ctx, acct.ID, mfa.ID, box("totp").Seal("USERKEY", "totp-secret|"+id(mfa.ID)), 0); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSSOSettings(ctx, &models.SSOSettings{AccountID: acct.ID, Issuer: "https://idp.example.test", ClientID: "onramp",
		SecretSealed: box("sso").Seal("client-secret", "sso-client-secret|"+id(acct.ID)), Scopes: "openid email", EmailClaim: "email"}); err != nil {
		t.Fatal(err)
	}
	hook := &models.StreamDestination{AccountID: acct.ID, Kind: models.StreamWebhook, Name: "siem", URL: "https://siem.example.test/hook",
		SecretSealed: box("stream").Seal("hook-secret", "stream-secret:"+id(acct.ID)), Enabled: true}
	if err := s.CreateStreamDestination(ctx, hook, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := build(t, s, old).Directory.CreateLDAPDirectoryIn(ctx, acct.Name, models.Actor{Type: models.ActorSystem, Label: "test"},
		directory.LDAPInput{Name: "corp", Preset: "openldap", URL: "ldap://ldap.example.test", BindDN: "cn=onramp", Password: "bind-password",
			BaseDN: "dc=example", LimitCount: 10, LimitPercent: 10}); err != nil {
		t.Fatal(err)
	}
	sealer := codes.NewSealer(old)
	var out [2]string
	now := time.Now().UTC()
	for i := range out {
		c := codes.New()
		rc := &models.RegistrationCode{AccountID: acct.ID, SDPUserID: user.ID, LookupHash: sealer.Lookup(c), Encrypted: sealer.Seal(acct.ID, c),
			GeneratedBy: models.GeneratedByAdmin, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.CreateCodes(ctx, []*models.RegistrationCode{rc}); err != nil {
			t.Fatal(err)
		}
		out[i] = codes.Format(c)
	}
	return rotationData{user: user, codeA: out[0], codeB: out[1]}
}

func redeem(t *testing.T, sv *services.Services, code string) {
	t.Helper()
	if _, err := sv.Devices.Register(t.Context(), devices.RegisterInput{Code: code, DeviceName: "laptop-" + code[:4]}, "192.0.2.1"); err != nil {
		t.Fatalf("redeem %s: %v", code, err)
	}
}

// resealed runs the reseal and returns the rows it rewrote per kind, failing on any value that
// opens under neither secret: the reseal opens every sealed value with the services' own sealers
// and associated data, so none unreadable means everything opens.
func resealed(t *testing.T, sv *services.Services, keys *secret.Keys) map[string]int {
	t.Helper()
	got, err := sv.Reseal(t.Context(), keys)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range got {
		if r.Unreadable != 0 {
			t.Errorf("%s: %d unreadable", r.Kind, r.Unreadable)
		}
		out[r.Kind] = r.Rewritten
	}
	return out
}

// Data sealed under the old secret opens beside the new one, a code redeems, the reseal rewrites
// each kind once (a second run nothing), and then the new secret alone opens everything and
// redeems the other code; secrets that are not the database's are refused throughout.
func TestRotateSecret(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := storetest.Open(t)
	d := sealUnderOld(t, s)
	newOnly := secret.NewKeys(newSecret)
	both := newOnly.WithPrevious(oldSecret)
	other := secret.NewKeys([]byte(strings.Repeat("other-secret", 4)))

	if _, err := services.CheckKeys(ctx, s, newOnly); !errors.Is(err, services.ErrWrongSecret) {
		t.Fatalf("new secret alone before the reseal: %v", err)
	}
	if _, err := services.CheckKeys(ctx, s, other.WithPrevious(newSecret)); !errors.Is(err, services.ErrWrongSecret) ||
		!strings.Contains(err.Error(), "ONRAMP_SECRET_PREVIOUS") {
		t.Fatalf("neither secret the database's: %v", err)
	}
	previous, err := services.CheckKeys(ctx, s, both)
	if err != nil || !previous {
		t.Fatalf("new with previous: previous %v, %v", previous, err)
	}
	sv := build(t, s, both)
	redeem(t, sv, d.codeA)

	want := map[string]int{"registration codes": 1, "admin TOTP keys": 1, "user TOTP keys": 1, "LDAP bind passwords": 1,
		"SSO client secrets": 1, "webhook secrets": 1}
	if got := resealed(t, sv, both); !equal(got, want) {
		t.Fatalf("first reseal: %v, want %v", got, want)
	}
	if got := resealed(t, sv, both); !equal(got, zero(want)) {
		t.Fatalf("second reseal: %v, want nothing", got)
	}

	previous, err = services.CheckKeys(ctx, s, newOnly)
	if err != nil || previous {
		t.Fatalf("new secret alone after the reseal: previous %v, %v", previous, err)
	}
	for _, k := range []*secret.Keys{secret.NewKeys(oldSecret), other} {
		if _, err := services.CheckKeys(ctx, s, k); !errors.Is(err, services.ErrWrongSecret) {
			t.Fatalf("another secret after the reseal: %v", err)
		}
	}
	sv = build(t, s, newOnly)
	if got := resealed(t, sv, newOnly); !equal(got, zero(want)) {
		t.Fatalf("reseal with the new secret alone: %v, want nothing", got)
	}
	redeem(t, sv, d.codeB)
}

func equal(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func zero(m map[string]int) map[string]int {
	out := map[string]int{}
	for k := range m {
		out[k] = 0
	}
	return out
}
