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

// TestBrowserDeviceSignOut is what an admin clicks on the user page: Sign out on a device, the
// warning dialog, confirm; the VPN client's credential stops working.
func TestBrowserDeviceSignOut(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	u := a.sdpUser("acme", "grace@example.com")
	token, _ := a.register(a.insertCode(u, time.Hour), "Grace's laptop")
	ctx := browser(t)
	browserSignIn(t, ctx, a.srv.URL, "ada@example.com")

	err := chromedp.Do(ctx,
		chromedp.Navigate(fmt.Sprintf("%s/access/users/%d", a.srv.URL, u.ID)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=device]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=device-sign-out]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-testid=confirm-dialog]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`dialog[data-testid=confirm-dialog]`)))
	if err != nil || !strings.Contains(msg, "Grace's laptop") {
		t.Fatalf("dialog text %q %v", msg, err)
	}
	expectAPI(t, a.api("GET", "/api/v1/client/session", token, nil), http.StatusOK, "")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`dialog[data-testid=confirm-dialog] [data-testid=confirm-ok]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=flash]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid=device-status]`)))
	if !strings.Contains(status, "Signed out") {
		t.Fatalf("device status %q", status)
	}
	expectAPI(t, a.api("GET", "/api/v1/client/session", token, nil), http.StatusUnauthorized, "invalid_token")
}

// TestBrowserDevicesPageSignOut is what helpdesk staff click when a laptop is stolen: on the
// Devices page, tick the device (the counter says so), Sign out selected, the warning dialog
// naming it, confirm; the device shows signed out and its credential stops working.
func TestBrowserDevicesPageSignOut(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "help@example.com", models.RoleHelpdesk)
	u := a.sdpUser("acme", "grace@example.com")
	token, _ := a.register(a.insertCode(u, time.Hour), "Grace's laptop")
	phone, _ := a.register(a.insertCode(u, time.Hour), "Grace's phone")
	ctx := browser(t)
	browserSignIn(t, ctx, a.srv.URL, "help@example.com")

	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`nav a[href="/access/devices"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=devices-table]`)),
		chromedp.Click(chromedp.CSS(`input[name=ids][aria-label="Select Grace's laptop"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-selected-count]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if counter, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-selected-count]`))); err != nil || counter != "1 selected" {
		t.Fatalf("counter %q %v", counter, err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid=sign-out-selected]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-testid=confirm-dialog]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`dialog[data-testid=confirm-dialog]`)))
	if err != nil || !strings.Contains(msg, "Grace's laptop (grace@example.com)") || strings.Contains(msg, "phone") {
		t.Fatalf("dialog text %q %v", msg, err)
	}
	expectAPI(t, a.api("GET", "/api/v1/client/session", token, nil), http.StatusOK, "")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`dialog[data-testid=confirm-dialog] [data-testid=confirm-ok]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=flash]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	states, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("[data-testid=device-row]")].map(r => r.querySelector("[data-testid=device-name]").textContent + ": " + r.querySelector("[data-testid=device-status]").textContent.trim())`))
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 2 || !strings.HasPrefix(states[0], "Grace's phone: Active") || !strings.HasPrefix(states[1], "Grace's laptop: Signed out") {
		t.Fatalf("rows %q", states)
	}
	expectAPI(t, a.api("GET", "/api/v1/client/session", token, nil), http.StatusUnauthorized, "invalid_token")
	expectAPI(t, a.api("GET", "/api/v1/client/session", phone, nil), http.StatusOK, "")
}
