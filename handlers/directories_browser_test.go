package handlers_test

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	"onramp/models"
)

// TestBrowserSCIMTokenLifecycle: an admin creates a SCIM directory on the Directory Sync tab,
// copies the token shown once, Okta uses it (200), the admin revokes it through the warning
// dialog, and Okta then gets 401.
func TestBrowserSCIMTokenLifecycle(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	ctx := browser(t)
	browserSignIn(t, ctx, a.srv.URL, "ada@example.com")
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.srv.URL+"/access/directory-services/provisioning"),
		chromedp.Click(chromedp.CSS(`nav.tabs a[href="/access/directory-services/directories"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=directory-form]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "Okta"),
		chromedp.Click(chromedp.CSS(`[data-testid=create-directory]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=token-result]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=copy-token]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=copy-token][data-label]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	copied, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[window.getSelection().toString(), document.querySelector("[data-testid=scim-token]").value]`))
	if err != nil || copied[0] == "" || copied[0] != copied[1] {
		t.Fatalf("copy: %q %v", copied, err)
	}
	okta := &scimClient{t: t, app: a, token: copied[0]}
	if got := okta.do(http.MethodGet, "/Users", ""); got.status != http.StatusOK {
		t.Fatalf("the copied token: %d %s", got.status, got.raw)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid=token-result] a.btn-primary`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=revoke-token]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=revoke-token]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-testid=confirm-dialog]`)),
		chromedp.Click(chromedp.CSS(`dialog[data-testid=confirm-dialog] [data-testid=confirm-ok]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=flash]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := okta.do(http.MethodGet, "/Users", ""); got.status != http.StatusUnauthorized {
		t.Fatalf("the revoked token: %d", got.status)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=revoke-token]").length`)); err != nil || n != 0 {
		t.Fatalf("revoke buttons left %d %v", n, err)
	}
}
