package handlers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"onramp/models"
	"onramp/models/sso"
	"onramp/models/sso/ssotest"
)

// TestBrowserSSOActivation: a new user opens MyVPN's sign-in for their account, clicks
// "Sign in with", signs in on the provider's own page, comes back activated and signed in to
// the portal, never having chosen a password.
func TestBrowserSSOActivation(t *testing.T) {
	a := newApp(t, withServedBaseURL)
	op := ssotest.StartProvider(t)
	op.AllowRedirect(a.SSO.RedirectURI())
	admin := a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	ctx := context.Background()
	if _, err := a.SSO.Save(ctx, admin.AccountID, models.AdminActor(admin, "127.0.0.1"), sso.Input{Enabled: true, Issuer: op.Issuer,
		ClientID: op.ClientID, ClientSecret: op.ClientSecret}); err != nil {
		t.Fatal(err)
	}
	u := &models.SDPUser{AccountID: admin.AccountID, FirstName: "Eve", LastName: "Ng", Email: "eve@example.com", Origin: models.OriginManual,
		Status: models.UserEnabled, Activation: models.ActivationNew}
	if err := a.store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	person := op.AddUser(ssotest.User{Email: "eve@example.com", EmailVerified: true})

	b := browser(t)
	err := chromedp.Do(b,
		chromedp.Navigate(a.srv.URL+"/myvpn/login?account=acme"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=sso-signin]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=sso-signin]`)),
		chromedp.WaitVisible(chromedp.CSS(`#provider-email`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	provider, err := chromedp.Run(b, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(b,
		chromedp.SendKeys(chromedp.CSS(`#provider-email`), person.Email),
		chromedp.SendKeys(chromedp.CSS(`#provider-password`), person.Password),
		chromedp.Click(chromedp.CSS(`#provider-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=portal-profile]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	flash, err := chromedp.Run(b, chromedp.Text(chromedp.CSS(`[data-testid=flash]`)))
	if err != nil {
		t.Fatal(err)
	}
	profile, err := chromedp.Run(b, chromedp.Text(chromedp.CSS(`[data-testid=portal-profile]`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(provider, op.Issuer+"/login") {
		t.Fatalf("the sign-in was not on the provider's page: %s", provider)
	}
	if !strings.Contains(flash, "Your account is active") || !strings.Contains(profile, "eve@example.com") {
		t.Fatalf("flash %q, profile %q", flash, profile)
	}
	got, err := a.store.User(ctx, u.AccountID, u.ID)
	if err != nil || got.Activation != models.ActivationActive || got.PasswordHash != "" {
		t.Fatalf("user after SSO: %+v %v", got, err)
	}
}
