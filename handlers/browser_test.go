package handlers_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"onramp/models"
)

func TestBrowserSignIn(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	ctx := browser(t)

	// A page asked for while signed out goes to the sign-in page; a wrong password shows the
	// error on the page; the right one lands on the page asked for.
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.srv.URL+"/events"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "ada@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "not the password"),
		chromedp.Click(chromedp.CSS(`form[data-testid=login-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=form-error]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testPassword),
		chromedp.Click(chromedp.CSS(`form[data-testid=login-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=account-name]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	account, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid=account-name]`)))
	if err != nil {
		t.Fatal(err)
	}
	if account != "acme" {
		t.Fatalf("account shown as %q", account)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || loc != a.srv.URL+"/events" {
		t.Fatalf("signed in to %q %v", loc, err)
	}
	// The stylesheet and scripts loaded under the CSP: htmx is defined.
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof htmx === "object" && getComputedStyle(document.querySelector(".sidebar")).display !== "inline"`))
	if err != nil || !ok {
		t.Fatalf("assets did not load: %v", err)
	}
}

func TestBrowserConfirmDialog(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	bob := a.createAdmin("acme", "bob@example.com", models.RoleAdmin)
	ctx := browser(t)
	browserSignIn(t, ctx, a.srv.URL, "ada@example.com")

	disable := fmt.Sprintf(`form[action="/settings/administrators/%d/disable"] button`, bob.ID)
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.srv.URL+"/settings/administrators"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=admin-row]`)),
		// Open bob's actions menu, then choose Disable: a warning dialog opens, nothing changes.
		chromedp.Click(chromedp.CSS(`tr[data-testid=admin-row]:nth-child(2) details.menu summary`)),
		chromedp.Click(chromedp.CSS(disable)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-testid=confirm-dialog]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`dialog[data-testid=confirm-dialog]`)))
	if err != nil || !strings.Contains(msg, "bob@example.com") {
		t.Fatalf("dialog text %q %v", msg, err)
	}
	if got, _ := a.store.AdminByID(t.Context(), bob.ID); got.Status != models.AdminActive {
		t.Fatal("bob was disabled before the confirmation")
	}
	// Confirming says it is working and cannot be clicked twice (seen with the submission held
	// back for a moment, then let go).
	busy, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`new Promise(done => {
		const form = document.querySelector("dialog[data-testid=confirm-dialog] form.confirm-form");
		const hold = e => e.preventDefault();
		form.addEventListener("submit", hold);
		form.querySelector("[data-testid=confirm-ok]").click();
		setTimeout(() => {
			const ok = !form.querySelector("[data-testid=confirm-progress]").hidden &&
				form.querySelector("[data-testid=confirm-ok]").disabled && form.getAttribute("aria-busy") === "true";
			form.removeEventListener("submit", hold);
			form.querySelectorAll("button").forEach(b => { b.disabled = false; });
			done(ok);
		}, 50);
	})`, chromedp.EvalAwaitPromise))
	if err != nil || !busy {
		t.Fatalf("the confirmation did not show its progress or left its button enabled (%v)", err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`dialog[data-testid=confirm-dialog] [data-testid=confirm-ok]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=flash]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	flash, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid=flash]`)))
	if !strings.Contains(flash, "disabled") {
		t.Fatalf("flash %q", flash)
	}
	if got, _ := a.store.AdminByID(t.Context(), bob.ID); got.Status != models.AdminDisabled {
		t.Fatal("bob is still active after the confirmation")
	}
}
