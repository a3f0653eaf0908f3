package sso_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/secret"
	"onramp/models/sso"
	"onramp/models/sso/ssotest"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

type fixture struct {
	log     *bytes.Buffer
	svc     *sso.Service
	st      *store.Store
	op      *ssotest.Provider
	account *models.Account
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	s := storetest.Open(t)
	op := ssotest.StartProvider(t)
	var log bytes.Buffer
	svc := sso.New(s, secret.NewKeys([]byte("test-secret-test-secret-test-secret!")), sso.Config{BaseURL: "http://onramp.test",
		Logger: slog.New(slog.NewTextHandler(&log, nil))})
	op.AllowRedirect(svc.RedirectURI())
	a := models.NewAccount("acme")
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	f := &fixture{log: &log, svc: svc, st: s, op: op, account: a}
	f.save(t, sso.Input{ClientSecret: op.ClientSecret})
	return f
}

// save saves the provider's settings with in's other fields, single sign-on on.
func (f *fixture) save(t *testing.T, in sso.Input) {
	t.Helper()
	in.Enabled, in.Issuer, in.ClientID = true, f.op.Issuer, f.op.ClientID
	if _, err := f.svc.Save(context.Background(), f.account.ID, models.Actor{Type: models.ActorAdmin, Label: "ada@example.com"}, in); err != nil {
		t.Fatal(err)
	}
}

// signIn begins an attempt, signs in at the provider as u and returns the callback.
func (f *fixture) signIn(t *testing.T, u ssotest.User) sso.Callback {
	t.Helper()
	authURL, err := f.svc.Begin(context.Background(), "acme", sso.PurposePortal, "payload", "binding-1")
	if err != nil {
		t.Fatal(err)
	}
	back, err := f.op.SignIn(http.DefaultClient, authURL, u)
	if err != nil {
		t.Fatal(err)
	}
	q := back.Query()
	return sso.Callback{State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"), ErrorDescription: q.Get("error_description"),
		Binding: "binding-1", IP: "192.0.2.1"}
}

func TestCompleteVerifiesTheIDToken(t *testing.T) {
	f := setup(t)
	u := f.op.AddUser(ssotest.User{Email: "Eve@Example.com", EmailVerified: true, GivenName: "Eve", FamilyName: "Ng", Groups: []string{"vpn"}})
	r, err := f.svc.Complete(context.Background(), f.signIn(t, u))
	if err != nil {
		t.Fatal(err)
	}
	if r.Identity.Email != "eve@example.com" || r.Identity.Subject != u.Subject || r.Purpose != sso.PurposePortal ||
		r.Payload != "payload" || r.Account.ID != f.account.ID || r.Identity.GivenName != "Eve" {
		t.Fatalf("result %+v", r)
	}
}

func TestCompleteRefuses(t *testing.T) {
	verified := ssotest.User{Email: "eve@example.com", EmailVerified: true}
	for _, tc := range []struct {
		reason string
		tamper ssotest.Tamper
		user   ssotest.User
		change func(cb *sso.Callback)
	}{
		{reason: "tampered state", user: verified, change: func(cb *sso.Callback) { cb.State = "x" + cb.State }},
		{reason: "state from another browser", user: verified, change: func(cb *sso.Callback) { cb.Binding = "other" }},
		{reason: "wrong audience", user: verified, tamper: ssotest.Tamper{Audience: []string{"someone-else"}}},
		{reason: "wrong nonce", user: verified, tamper: ssotest.Tamper{Nonce: "not-the-nonce"}},
		{reason: "expired token", user: verified, tamper: ssotest.Tamper{IDTokenLifetime: -2 * time.Minute}},
		{reason: "unverified email", user: ssotest.User{Email: "eve@example.com"}},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			f := setup(t)
			f.op.Tamper(tc.tamper)
			cb := f.signIn(t, f.op.AddUser(tc.user))
			if tc.change != nil {
				tc.change(&cb)
			}
			_, err := f.svc.Complete(context.Background(), cb)
			var ref *sso.Refusal
			if !errors.As(err, &ref) || ref.Reason != tc.reason {
				t.Fatalf("got %v, want refusal %q", err, tc.reason)
			}
		})
	}
}

func TestReplayedStateIsRefused(t *testing.T) {
	f := setup(t)
	cb := f.signIn(t, f.op.AddUser(ssotest.User{Email: "eve@example.com", EmailVerified: true}))
	if _, err := f.svc.Complete(context.Background(), cb); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Complete(context.Background(), cb)
	var ref *sso.Refusal
	if !errors.As(err, &ref) || ref.Reason != "replayed state" {
		t.Fatalf("replay: %v", err)
	}
}

// A provider that does not accept the client secret refuses the sign-in; the log says so
// without the code, the state or either secret.
func TestTokenExchangeFailureLogsNoSecret(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.save(t, sso.Input{ClientSecret: "not-the-secret"})
	cb := f.signIn(t, f.op.AddUser(ssotest.User{Email: "eve@example.com", EmailVerified: true}))
	_, err := f.svc.Complete(ctx, cb)
	var ref *sso.Refusal
	if !errors.As(err, &ref) || ref.Reason != "token exchange failed" {
		t.Fatalf("got %v", err)
	}
	log := f.log.String()
	if !strings.Contains(log, "token exchange failed") {
		t.Fatalf("nothing logged: %s", log)
	}
	for _, secret := range []string{cb.Code, cb.State, "not-the-secret", f.op.ClientSecret} {
		if strings.Contains(log, secret) {
			t.Fatalf("the log holds %q:\n%s", secret, log)
		}
	}
}

// An attempt completed after LoginTTL is refused.
func TestExpiredAttemptIsRefused(t *testing.T) {
	f := setup(t)
	cb := f.signIn(t, f.op.AddUser(ssotest.User{Email: "eve@example.com", EmailVerified: true}))
	f.svc.WithClock(func() time.Time { return time.Now().UTC().Add(sso.LoginTTL + time.Minute) })
	_, err := f.svc.Complete(context.Background(), cb)
	var ref *sso.Refusal
	if !errors.As(err, &ref) || ref.Reason != "expired attempt" {
		t.Fatalf("got %v", err)
	}
}

// The provider's "does not send email_verified" setting accepts an email without the claim.
func TestNoEmailVerifiedSetting(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.save(t, sso.Input{NoEmailVerified: true, GroupsClaim: ssotest.GroupsClaim})
	r, err := f.svc.Complete(ctx, f.signIn(t, f.op.AddUser(ssotest.User{Email: "eve@example.com", Groups: []string{"vpn", "staff"}})))
	if err != nil {
		t.Fatal(err)
	}
	if r.Identity.EmailVerified || strings.Join(r.Identity.Groups, ",") != "vpn,staff" {
		t.Fatalf("identity %+v", r.Identity)
	}
}
