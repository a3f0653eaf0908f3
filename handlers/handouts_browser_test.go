package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"onramp/models"
	"onramp/models/codes"
	"onramp/models/mail/mailtest"
	"onramp/models/users"
)

// confirmAction selects users on the Users page, chooses an action in the Actions menu and
// confirms it in the warning dialog, then waits for the page of the codes just generated.
func confirmAction(base, action string, ids ...int64) []chromedp.Action[chromedp.Void] {
	tasks := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "/access/users"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=bulk-form]`)),
	}
	for _, id := range ids {
		tasks = append(tasks, chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name=ids][value="%d"]`, id))))
	}
	return append(tasks,
		chromedp.Click(chromedp.CSS(`[data-testid=bulk-form] details.menu summary`)),
		chromedp.Click(chromedp.CSS(`[data-testid=action-`+action+`]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-testid=confirm-dialog]`)),
		chromedp.Click(chromedp.CSS(`dialog[data-testid=confirm-dialog] [data-testid=confirm-ok]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=handout]`)),
	)
}

func TestBrowserNewUserUnderRegistrationCodeSeesTheCodeOnce(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	a.execSQL(`UPDATE accounts SET provisioning_method = 'registration_code' WHERE id = ?`, boss.AccountID)
	ctx := browser(t)
	browserSignIn(t, ctx, a.srv.URL, "ada@example.com")
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.srv.URL+"/access/users/new"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=new-user-codes]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=first_name]`), "Grace"),
		chromedp.SendKeys(chromedp.CSS(`input[name=last_name]`), "Hopper"),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "grace@example.com"),
		chromedp.Click(chromedp.CSS(`form[data-testid=new-user-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-code]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("[data-code]")].map(e => e.getAttribute("data-code"))`))
	if err != nil {
		t.Fatal(err)
	}
	grace := a.userByEmail(boss.AccountID, "grace@example.com")
	cs := a.userCodes(boss.AccountID, grace.ID)
	if len(cs) != 1 || len(shown) != 1 || shown[0] != codes.Format(a.codeText(cs[0])) {
		t.Fatalf("shown %v, codes %+v", shown, cs)
	}
	// A reload shows the code no more.
	err = chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`main`)))
	if err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil || strings.Contains(body, shown[0]) || !strings.Contains(body, "shown once already") {
		t.Fatalf("after a reload: %q %v", body, err)
	}
}

func TestBrowserHelpdeskGeneratesCopiesAndDownloadsOnlyTheirCodes(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	help := a.createAdmin("acme", "help@example.com", models.RoleHelpdesk)
	us := a.seedUsers(boss.AccountID, 2, nil)
	if _, err := a.Users.Bulk(t.Context(), boss, "", users.ActionGenerateCode, users.Selection{IDs: []int64{us[0].ID}}); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	browserSignIn(t, ctx, a.srv.URL, help.Email)
	if err := chromedp.Do(ctx, confirmAction(a.srv.URL, "generate_code", us[1].ID)...); err != nil {
		t.Fatal(err)
	}
	code, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-code]").getAttribute("data-code")`))
	if err != nil {
		t.Fatal(err)
	}
	if cs := a.userCodes(boss.AccountID, us[1].ID); len(cs) != 1 || code != codes.Format(a.codeText(cs[0])) {
		t.Fatalf("shown %q", code)
	}
	// Copy: the code is selected (so the clipboard, or Ctrl+C, gets it) and the button says so.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid=copy-code]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=copy-code][data-label]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	copied, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[window.getSelection().toString(), document.querySelector("[data-testid=copy-code]").textContent]`))
	if err != nil || copied[0] != code || copied[1] != "Copied" {
		t.Fatalf("copy: %q %v", copied, err)
	}
	// The CSV of the codes just generated, with the browser's session: theirs only, once.
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		const href = document.querySelector("[data-testid=handout-csv]").getAttribute("href");
		const first = await fetch(href), second = await fetch(href);
		return JSON.stringify({first: first.status, body: await first.text(), second: second.status});
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		First, Second int
		Body          string
	}
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatal(err)
	}
	rows := csvRows(t, got.Body)
	if got.First != http.StatusOK || got.Second != http.StatusGone || len(rows) != 2 || rows[1][3] != code || rows[1][2] != us[1].Email {
		t.Fatalf("downloads %d then %d, rows %q", got.First, got.Second, rows)
	}
}

var mailedCodeRE = regexp.MustCompile(`\b[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b`)

func TestBrowserEmailCodeRegistersADevice(t *testing.T) {
	t.Parallel()
	smtp := mailtest.Start(t)
	a := newApp(t, withSMTP(smtp))
	boss := a.createAdmin("acme", "ada@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, 1, nil)
	ctx := browser(t)
	browserSignIn(t, ctx, a.srv.URL, boss.Email)
	if err := chromedp.Do(ctx, confirmAction(a.srv.URL, "email_code", us[0].ID)...); err != nil {
		t.Fatal(err)
	}
	msgs := smtp.Wait(1, 30*time.Second)
	if len(msgs) != 1 || msgs[0].To[0] != us[0].Email {
		t.Fatalf("mail %+v", msgs)
	}
	code := mailedCodeRE.FindString(msgs[0].Text)
	if code == "" || !strings.Contains(msgs[0].Text, "onramp://enroll?") {
		t.Fatalf("the mail lacks its code or link:\n%s", msgs[0].Text)
	}
	res := a.api(http.MethodPost, "/api/v1/client/register", "", registerBody(code, "phone"))
	expectAPI(t, res, http.StatusCreated, "")
	if a.eventCount(models.SubCodeUsed) != 1 {
		t.Fatal("no Used event")
	}
}
