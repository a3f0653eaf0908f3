package handlers_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// One headless Chromium serves every browser test of the binary: starting it is most of a
// browser test's time. Each test gets a browser context of its own (its own cookies, as a
// private window has), so tests run side by side without seeing each other's sessions, though
// their servers all listen on 127.0.0.1.
var chromium struct {
	once   sync.Once
	ctx    context.Context // the browser's first tab; tests open their own
	cancel func()
	err    error
}

// browser opens a private browser context for one test, closed when the test ends. Chromium is
// part of the test environment (.ci/run installs it): a missing browser fails the test rather
// than hiding it.
func browser(t *testing.T) context.Context {
	t.Helper()
	chromium.once.Do(startChromium)
	if chromium.err != nil {
		t.Fatal(chromium.err)
	}
	ctx, cancel := chromedp.NewContext(chromium.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	tctx, tcancel := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(tcancel)
	return tctx
}

func startChromium() {
	path := os.Getenv("CHROMIUM_PATH")
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path != "" {
			break
		}
		path, _ = exec.LookPath(name)
	}
	if path == "" {
		chromium.err = errNoChromium
		return
	}
	dir, err := os.MkdirTemp("", "onramp-chromium-")
	if err != nil {
		chromium.err = err
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(dir),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	chromium.ctx = ctx
	chromium.cancel = func() { cancel(); cancelAlloc(); _ = os.RemoveAll(dir) }
	// Start the browser without a deadline (a deadline on the first run would stop it).
	chromium.err = chromedp.Do(ctx, chromedp.Navigate("about:blank"))
}

// stopChromium closes the shared browser, if a test started it.
func stopChromium() {
	if chromium.cancel != nil {
		chromium.cancel()
	}
}

var errNoChromium = errors.New("chromium not found: install it (apt-get install chromium) or set CHROMIUM_PATH")

func browserSignIn(t *testing.T, ctx context.Context, base, email string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testPassword),
		chromedp.Click(chromedp.CSS(`form[data-testid=login-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=account-name]`)),
	)
	if err != nil {
		t.Fatalf("sign in through the page: %v", err)
	}
}
