package handlers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"onramp/models"
)

// TestBrowserRemoveMFA is what a helpdesk agent clicks for a user who lost their phone: the
// user page's Actions menu, Remove MFA, the warning dialog, confirm; the page shows MFA off.
func TestBrowserRemoveMFA(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	a.createAdmin("acme", "help@example.com", models.RoleHelpdesk)
	u := a.seedUsers(boss.AccountID, 1, nil)[0]
	a.withTOTP(u)
	ctx := browser(t)
	browserSignIn(t, ctx, a.srv.URL, "help@example.com")

	err := chromedp.Do(ctx,
		chromedp.Navigate(fmt.Sprintf("%s/access/users/%d", a.srv.URL, u.ID)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=user-mfa]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if mfa, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid=user-mfa]`))); !strings.Contains(mfa, "Configured") {
		t.Fatalf("MFA shows %q before the removal", mfa)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`.page-actions details.menu summary`)),
		chromedp.Click(chromedp.CSS(`[data-testid=action-remove_mfa]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-testid=confirm-dialog]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`dialog[data-testid=confirm-dialog]`)))
	if err != nil || !strings.Contains(msg, "Remove MFA: 1 user?") || !strings.Contains(msg, "authenticator key is deleted") {
		t.Fatalf("dialog text %q %v", msg, err)
	}
	if !a.reload(u).MFAConfigured {
		t.Fatal("MFA removed before the confirmation")
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`dialog[data-testid=confirm-dialog] [data-testid=confirm-ok]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=flash]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	flash, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid=flash]`)))
	mfa, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid=user-mfa]`)))
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.Contains(flash, "Removed MFA from 1 user.") || !strings.Contains(mfa, "Not configured") ||
		loc != fmt.Sprintf("%s/access/users/%d", a.srv.URL, u.ID) {
		t.Fatalf("after the removal: %q, flash %q, MFA %q", loc, flash, mfa)
	}
	if a.reload(u).MFAConfigured {
		t.Fatal("MFA still configured")
	}
}

// TestBrowserEditUser: an admin opens Edit profile on the user page, tries another user's
// email (an inline error, the input kept), then fixes the typo and lands on the user page.
func TestBrowserEditUser(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, 2, func(i int, u *models.SDPUser) {
		if i == 0 {
			u.FirstName, u.LastName, u.Email = "Grace", "Hopper", "grace@exmaple.com"
		}
	})
	ctx := browser(t)
	browserSignIn(t, ctx, a.srv.URL, "ada@example.com")

	email := chromedp.CSS(`form[data-testid=edit-user-form] input[name=email]`)
	save := chromedp.CSS(`[data-testid=edit-user-save]`)
	err := chromedp.Do(ctx,
		chromedp.Navigate(fmt.Sprintf("%s/access/users/%d", a.srv.URL, us[0].ID)),
		chromedp.Click(chromedp.CSS(`[data-testid=edit-user]`)),
		chromedp.WaitVisible(email),
		chromedp.Clear(email),
		chromedp.SendKeys(email, us[1].Email),
		chromedp.Click(save),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=error-email]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid=error-email]`)))
	kept, _ := chromedp.Run(ctx, chromedp.Value(email))
	if !strings.Contains(msg, "already exists") || kept != us[1].Email {
		t.Fatalf("error %q, field %q", msg, kept)
	}
	err = chromedp.Do(ctx,
		chromedp.Clear(email),
		chromedp.SendKeys(email, "grace@example.com"),
		chromedp.Click(save),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=user-profile]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	flash, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid=flash]`)))
	profile, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid=user-profile]`)))
	if !strings.Contains(flash, "Grace Hopper is updated.") || !strings.Contains(profile, "grace@example.com") {
		t.Fatalf("flash %q, profile %q", flash, profile)
	}
	if got := a.reload(us[0]); got.Email != "grace@example.com" {
		t.Fatalf("email %q", got.Email)
	}
}

// TestBrowserMFAUserSkippedAndRefused: a helpdesk agent generates codes for two users, one with
// MFA; the page of the codes shows one code and links the skipped MFA user, and a code that user
// was given before enrolling MFA is refused by the client API without being used up.
func TestBrowserMFAUserSkippedAndRefused(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	help := a.createAdmin("acme", "help@example.com", models.RoleHelpdesk)
	us := a.seedUsers(boss.AccountID, 2, nil)
	old := a.insertCode(us[1], time.Hour)
	a.setMFA(us[1], true)
	ctx := browser(t)
	browserSignIn(t, ctx, a.srv.URL, help.Email)
	if err := chromedp.Do(ctx, confirmAction(a.srv.URL, "generate_code", us[0].ID, us[1].ID)...); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[
		String(document.querySelectorAll("[data-code]").length),
		document.querySelector("[data-testid=handout-mfa]").textContent,
		document.querySelector("[data-testid=handout-mfa]").getAttribute("href")]`))
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != "1" || got[1] != "1 skipped: MFA configured" || got[2] != "/access/users?mfa=yes" {
		t.Fatalf("the page of the codes shows %q", got)
	}
	if cs := a.userCodes(boss.AccountID, us[1].ID); len(cs) != 1 {
		t.Fatalf("the MFA user has %d codes, want only the one from before MFA", len(cs))
	}
	r := a.api(http.MethodPost, "/api/v1/client/register", "", registerBody(old, "laptop"))
	expectAPI(t, r, http.StatusForbidden, "mfa_configured")
	if used, _, _ := a.codeRow(old); used {
		t.Fatal("the refused code was used up")
	}
}
