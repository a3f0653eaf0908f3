package handlers_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"onramp/models"
	"onramp/models/codes"
)

// Generate for new users through the warning dialog, watch the run finish (htmx polling, then a
// reload), then download the CSV in the page and check its rows.
func TestBrowserGenerateForNewUsersAndDownloadCSV(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, 5, func(i int, u *models.SDPUser) {
		if i == 4 {
			u.Status = models.UserDisabled
		}
		if i == 0 {
			u.FirstName = "=1+2"
		}
	})
	a.startJobs()
	ctx := browser(t)
	browserSignIn(t, ctx, a.srv.URL, "ada@example.com")

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.srv.URL+"/access/client-access"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=generate-new-users]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=generate-new-users]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-testid=confirm-dialog]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`dialog[data-testid=confirm-dialog]`)))
	if err != nil || !strings.Contains(msg, "A code will be generated for all 4 users that never had a code") {
		t.Fatalf("dialog text %q %v", msg, err)
	}
	if n := a.eventCount(models.SubCodeGenerated); n != 0 {
		t.Fatal("codes were generated before the confirmation")
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`dialog[data-testid=confirm-dialog] [data-testid=confirm-ok]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=code-run]`)),
		// htmx polls the run every second and reloads the page once it has finished.
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=code-run][data-status=done]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	progress, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid=code-run-progress]`)))
	if err != nil || !strings.Contains(progress, "4 of 4 codes generated") {
		t.Fatalf("progress %q %v", progress, err)
	}
	count, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid=new-users-count]`)))
	if err != nil || count != "0" {
		t.Fatalf("users left without a code: %q %v", count, err)
	}

	// The download, fetched by the page with the browser's session.
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch("/access/directory-services/provisioning/codes.csv").then(async r =>
		JSON.stringify({status: r.status, type: r.headers.get("content-type"), disposition: r.headers.get("content-disposition"), body: await r.text()}))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Status      int
		Type        string
		Disposition string
		Body        string
	}
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status != 200 || got.Type != "text/csv; charset=utf-8" || !dispositonRE.MatchString(got.Disposition) {
		t.Fatalf("response %d %q %q", got.Status, got.Type, got.Disposition)
	}
	rows := csvRows(t, got.Body)
	if len(rows) != 1+4 || strings.Join(rows[0], ",") != "First Name,Last Name,Email,Registration Code,Expires At" {
		t.Fatalf("rows %q", rows)
	}
	if rows[1][0] != "'=1+2" {
		t.Fatalf("formula not neutralised: %q", rows[1][0])
	}
	for i, row := range rows[1:] {
		cs := a.userCodes(boss.AccountID, us[i].ID)
		if len(cs) != 1 || row[2] != us[i].Email || row[3] != codes.Format(a.codeText(cs[0])) {
			t.Fatalf("row %d: %q", i, row)
		}
	}
	if strings.Contains(got.Body, us[4].Email) {
		t.Fatal("the disabled user has a code")
	}
}
