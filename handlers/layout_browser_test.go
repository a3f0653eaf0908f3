package handlers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"onramp/models"
)

// rect is an element's box in the viewport, with the viewport's size.
type rect struct {
	Left, Right, Top, Bottom float64
	ViewWidth, ViewHeight    float64
	Found                    bool
}

// boxOf measures the first element matching a CSS selector.
func boxOf(t *testing.T, ctx context.Context, selector string) rect {
	t.Helper()
	r, err := chromedp.Run(ctx, chromedp.Evaluate[rect](fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		const vw = document.documentElement.clientWidth, vh = window.innerHeight;
		if (!el) return {Found: false, ViewWidth: vw, ViewHeight: vh};
		const b = el.getBoundingClientRect();
		return {Left: b.left, Right: b.right, Top: b.top, Bottom: b.bottom, ViewWidth: vw, ViewHeight: vh, Found: true};
	})()`, selector)))
	if err != nil {
		t.Fatalf("measure %s: %v", selector, err)
	}
	if !r.Found {
		t.Fatalf("no %s on the page", selector)
	}
	return r
}

func (r rect) withinWidth() bool { return r.Left >= 0 && r.Right <= r.ViewWidth+0.5 }

// TestBrowserLayoutDesktop: at 1366x768, the user page's Actions menu opens inside the
// viewport, and the sidebar runs down to the bottom of a long page.
func TestBrowserLayoutDesktop(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	admin := a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	u := a.sdpUser("acme", "grace@example.com")
	events := make([]*models.Event, 300)
	for i := range events {
		events[i] = models.UserEvent(u, models.EventUser, models.SubUserInvited, models.AdminActor(admin, "198.51.100.7"), nil)
	}
	if err := a.store.CreateEvents(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768)); err != nil {
		t.Fatal(err)
	}
	browserSignIn(t, ctx, a.srv.URL, admin.Email)

	err := chromedp.Do(ctx,
		chromedp.Navigate(fmt.Sprintf("%s/access/users/%d", a.srv.URL, u.ID)),
		chromedp.Click(chromedp.CSS(`.page-actions details.menu > summary`)),
		chromedp.WaitVisible(chromedp.CSS(`.page-actions details.menu[open] .menu-items`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if m := boxOf(t, ctx, `.page-actions details.menu[open] .menu-items`); !m.withinWidth() || m.Bottom > m.ViewHeight {
		t.Errorf("the open Actions menu %+v leaves the 1366x768 viewport", m)
	}

	err = chromedp.Do(ctx,
		chromedp.Navigate(a.srv.URL+"/events"),
		chromedp.WaitVisible(chromedp.CSS(`.sidebar`)),
		chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, document.documentElement.scrollHeight)`),
	)
	if err != nil {
		t.Fatal(err)
	}
	page, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.documentElement.scrollHeight / window.innerHeight`))
	if err != nil || page < 2 {
		t.Fatalf("the events page is %.1f screens high (%v): too short to test the sidebar", page, err)
	}
	topbar := boxOf(t, ctx, `.topbar`)
	if s := boxOf(t, ctx, `.sidebar`); s.Top > topbar.Bottom+0.5 || s.Bottom < s.ViewHeight-0.5 {
		t.Errorf("scrolled to the bottom of a long page, the sidebar spans %.0f to %.0f of a %.0f px high viewport (top bar ends at %.0f)",
			s.Top, s.Bottom, s.ViewHeight, topbar.Bottom)
	}
}

// TestBrowserLayoutPhone: at 390 px wide the navigation shows the page's entry, marked
// current, and MyVPN's Sign out button of a device is on screen.
func TestBrowserLayoutPhone(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	admin := a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	u := a.activeSDPUser("acme", "grace@example.com")
	a.register(a.insertCode(u, time.Hour), "Grace's very long laptop name")
	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	browserSignIn(t, ctx, a.srv.URL, admin.Email)
	for _, path := range []string{"/events", "/outbox", "/settings/administrators"} {
		err := chromedp.Do(ctx, chromedp.Navigate(a.srv.URL+path), chromedp.WaitVisible(chromedp.CSS(`.sidebar`)))
		if err != nil {
			t.Fatal(err)
		}
		if r := boxOf(t, ctx, `.sidebar a[aria-current="page"]`); !r.withinWidth() {
			t.Errorf("%s at 390 px: the current navigation entry is at %.0f to %.0f, off screen", path, r.Left, r.Right)
		}
	}

	portal := browser(t)
	err := chromedp.Do(portal,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(a.srv.URL+"/myvpn/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=account]`), "acme"),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), u.Email),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testPassword),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=device-sign-out]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if r := boxOf(t, portal, `[data-testid=device-sign-out]`); !r.withinWidth() {
		t.Errorf("MyVPN at 390 px: the device's Sign out button is at %.0f to %.0f of %.0f px, off screen", r.Left, r.Right, r.ViewWidth)
	}
}
