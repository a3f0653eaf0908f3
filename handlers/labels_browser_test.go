package handlers_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"onramp/models"
)

// The Users actions' dialog names whom it applies to and how many VPN devices it signs out.
func TestBrowserActionDialogNamesUsersAndDevices(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, 6, nil)
	a.register(a.insertCode(us[2], time.Hour), "laptop")
	a.register(a.insertCode(us[3], time.Hour), "phone")
	ctx := browser(t)
	browserSignIn(t, ctx, a.srv.URL, "ada@example.com")

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.srv.URL+"/access/users?sort=oldest"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=users-table]`)),
		chromedp.Click(chromedp.CSS(`input[data-select-all=ids]`)),
		chromedp.Click(chromedp.CSS(`#bulk-form details.menu summary`)),
		chromedp.Click(chromedp.CSS(`[data-testid=action-disable]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-testid=confirm-dialog]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return s
	}
	title := text(`dialog[data-testid=confirm-dialog] h2`)
	if !strings.Contains(title, "Disable: 6 users?") {
		t.Fatalf("title %q", title)
	}
	names := text(`dialog[data-testid=confirm-dialog] [data-testid=confirm-subjects]`)
	for i := range 5 {
		if want := us[i].FullName() + " (" + us[i].Email + ")"; !strings.Contains(names, want) {
			t.Errorf("the dialog does not name %q: %q", want, names)
		}
	}
	if strings.Contains(names, us[5].Email) {
		t.Errorf("the dialog names a sixth user: %q", names)
	}
	if more := text(`dialog[data-testid=confirm-dialog] [data-testid=confirm-more]`); more != "and 1 more" {
		t.Errorf("more: %q", more)
	}
	if note := text(`dialog[data-testid=confirm-dialog] [data-testid=confirm-note]`); note != "2 VPN devices will be signed out." {
		t.Errorf("note: %q", note)
	}
	if got := a.reload(us[2]); got.Status != models.UserEnabled {
		t.Fatal("disabled before the confirmation")
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`dialog[data-testid=confirm-dialog] [data-testid=confirm-ok]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=flash]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.reload(us[2]); got.Status != models.UserDisabled || got.Devices != 0 {
		t.Fatalf("after the confirmation: %s with %d devices", got.Status, got.Devices)
	}
}
