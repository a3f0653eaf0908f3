package handlers_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"onramp/models"
	"onramp/models/mail/mailtest"
)

// TestEndToEndInvitation is the Invitation Email flow as people live it: an admin creates a user
// in the console, the invitation reaches a real SMTP server, the user follows the link in
// Chromium, chooses a password, and later signs in to the MyVPN portal with it.
func TestEndToEndInvitation(t *testing.T) {
	t.Parallel()
	smtp := mailtest.Start(t)
	a := newApp(t, withSMTP(smtp))
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	ctx := browser(t)
	browserSignIn(t, ctx, a.srv.URL, "boss@example.com")

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.srv.URL+"/access/users"),
		chromedp.Click(chromedp.CSS(`[data-testid=new-user]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[data-testid=new-user-form]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=first_name]`), "Grace"),
		chromedp.SendKeys(chromedp.CSS(`input[name=last_name]`), "Hopper"),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "grace@example.com"),
		chromedp.Click(chromedp.CSS(`form[data-testid=new-user-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=user-activation]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	state, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid=user-activation] .badge`)))
	// The page shows the message's state: the delivery job may or may not have run yet.
	if state != "Invitation queued" && state != "Invitation sent" {
		t.Fatalf("activation shown as %q", state)
	}

	msgs := smtp.Wait(1, 30*time.Second)
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "grace@example.com" {
		t.Fatalf("mail received: %+v", msgs)
	}
	link := activationLinkRE.FindString(msgs[0].Text)
	if link == "" || !strings.Contains(msgs[0].HTML, link) || !strings.Contains(msgs[0].Text, "acme") {
		t.Fatalf("the invitation lacks its link or account:\n%s", msgs[0].Text)
	}
	// The console's public URL is onramp.test; the test server stands in for it.
	link = strings.Replace(link, "http://onramp.test", a.srv.URL, 1)

	const pw = "correct mule battery lamp"
	err = chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`form[data-testid=activation-form]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pw),
		chromedp.SendKeys(chromedp.CSS(`input[name=password_confirm]`), pw),
		chromedp.Click(chromedp.CSS(`form[data-testid=activation-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=portal-email]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=portal-sign-out]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[data-testid=portal-login-form]`)),
		chromedp.SendKeys(chromedp.CSS(`form[data-testid=portal-login-form] input[name=account]`), "acme"),
		chromedp.SendKeys(chromedp.CSS(`form[data-testid=portal-login-form] input[name=email]`), "grace@example.com"),
		chromedp.SendKeys(chromedp.CSS(`form[data-testid=portal-login-form] input[name=password]`), pw),
		chromedp.Click(chromedp.CSS(`form[data-testid=portal-login-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=portal-email]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	email, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid=portal-email]`)))
	if email != "grace@example.com" {
		t.Fatalf("signed in as %q", email)
	}
	u, err := a.store.UserByEmail(t.Context(), boss.AccountID, "grace@example.com")
	if err != nil || u.Activation != models.ActivationActive {
		t.Fatalf("user after activation: %+v %v", u, err)
	}
	// The link was used up by the activation.
	err = chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`[data-testid=link-gone]`)))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(smtp.Messages()); n != 1 {
		t.Fatalf("%d messages sent, want exactly 1", n)
	}
}
