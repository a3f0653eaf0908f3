package handlers_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"onramp/handlers/api"
	"onramp/models"
)

// TestAPIUsersLifecycle: create, read, change and delete a user with the console's rules and
// events, the token named as their actor.
func TestAPIUsersLifecycle(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	tok := a.apiToken("acme", models.ScopeUsersRead, models.ScopeUsersWrite)
	var u api.CreatedUser
	res := a.adminCall(http.MethodPost, "/api/v1/users", tok, map[string]string{"first_name": "Ada", "last_name": "Lovelace", "email": "ADA@acme.test"})
	res.expect(t, http.StatusCreated)
	res.json(t, &u)
	if u.Email != "ada@acme.test" || u.Activation != string(models.ActivationInvitationSent) || u.RegistrationCode != nil {
		t.Fatalf("created %+v", u)
	}
	if loc := res.header.Get("Location"); loc != "/api/v1/users/"+itoa(u.ID) {
		t.Fatalf("Location %q", loc)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE type = ? AND sub_type = ? AND actor_type = ? AND actor_label = ?",
		models.EventUser, models.SubUserCreated, models.ActorAPIToken, "API token script"); n != 1 {
		t.Fatalf("%d User Created events by the token", n)
	}
	p := a.adminCall(http.MethodPost, "/api/v1/users", tok, map[string]string{"first_name": "Ada", "last_name": "Again", "email": "ada@acme.test"}).
		problem(t, http.StatusUnprocessableEntity, "validation")
	if p.Errors["email"] == "" {
		t.Fatalf("duplicate email: %+v", p)
	}
	a.adminCall(http.MethodPost, "/api/v1/users", tok, `{"first_name": "X", "nope": 1}`).problem(t, http.StatusBadRequest, "invalid-json")

	var got api.User
	res = a.adminCall(http.MethodPatch, "/api/v1/users/"+itoa(u.ID), tok, map[string]string{"phone": "+44 20 7946 0000"})
	res.expect(t, http.StatusOK)
	res.json(t, &got)
	if got.Phone != "+44 20 7946 0000" || got.FirstName != "Ada" || got.Email != "ada@acme.test" {
		t.Fatalf("patched %+v", got)
	}
	a.adminCall(http.MethodPatch, "/api/v1/users/"+itoa(u.ID), tok, map[string]string{"email": "not an email"}).problem(t, http.StatusUnprocessableEntity, "validation")

	var page api.UserPage
	a.adminCall(http.MethodGet, "/api/v1/users?q=ada&status=enabled", tok, nil).json(t, &page)
	if len(page.Users) != 1 || page.Total != 1 {
		t.Fatalf("filtered list %+v", page)
	}
	a.adminCall(http.MethodDelete, "/api/v1/users/"+itoa(u.ID), tok, nil).expect(t, http.StatusNoContent)
	a.adminCall(http.MethodGet, "/api/v1/users/"+itoa(u.ID), tok, nil).problem(t, http.StatusNotFound, "not-found")
	a.adminCall(http.MethodDelete, "/api/v1/users/"+itoa(u.ID), tok, nil).problem(t, http.StatusNotFound, "not-found")
}

// TestAPIUsersCursor: the list pages with next_cursor through every user, once each.
func TestAPIUsersCursor(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	tok := a.apiToken("acme", models.ScopeUsersRead)
	acc, _ := a.store.AccountByName(t.Context(), "acme")
	a.seedUsers(acc.ID, 120, nil)
	seen := map[int64]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		var page api.UserPage
		a.adminCall(http.MethodGet, "/api/v1/users?sort=email&cursor="+cursor, tok, nil).json(t, &page)
		for _, u := range page.Users {
			if seen[u.ID] {
				t.Fatalf("user %d twice", u.ID)
			}
			seen[u.ID] = true
		}
		if cursor = page.NextCursor; cursor == "" || pages > 10 {
			break
		}
	}
	if len(seen) != 120 {
		t.Fatalf("%d users seen", len(seen))
	}
}

// TestAPIIdempotentRetry: a retried create with the same Idempotency-Key returns the first
// response and creates nothing more, even when the retries race; the same key with another
// body is 422; the codes of a retried generation are the first ones.
func TestAPIIdempotentRetry(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	tok := a.apiToken("acme", models.ScopeUsersWrite, models.ScopeCodesWrite)
	body := map[string]string{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@acme.test"}
	key := []string{api.HeaderIdempotencyKey, "8e0f2c1a-create-ada"}
	first := a.adminCall(http.MethodPost, "/api/v1/users", tok, body, key...)
	first.expect(t, http.StatusCreated)
	var wg sync.WaitGroup
	results := make([]adminResult, 8)
	errs := make([]error, 8)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = a.adminDo(http.MethodPost, "/api/v1/users", tok, body, key...) })
	}
	wg.Wait()
	for i, r := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if r.status != http.StatusCreated || r.raw != first.raw || r.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry %d: %d %v %s, want the first answer %s", i, r.status, r.header, r.raw, first.raw)
		}
	}
	if n := a.countSQL("SELECT COUNT(*) FROM sdp_users WHERE email = ?", "ada@acme.test"); n != 1 {
		t.Fatalf("%d users", n)
	}
	body["last_name"] = "Byron"
	a.adminCall(http.MethodPost, "/api/v1/users", tok, body, key...).problem(t, http.StatusUnprocessableEntity, "idempotency-key-reused")

	// A failed request leaves its key free: the corrected retry runs.
	bad := []string{api.HeaderIdempotencyKey, "create-grace"}
	a.adminCall(http.MethodPost, "/api/v1/users", tok, map[string]string{"first_name": "Grace", "last_name": "Hopper", "email": "nope"}, bad...).
		problem(t, http.StatusUnprocessableEntity, "validation")
	a.adminCall(http.MethodPost, "/api/v1/users", tok, map[string]string{"first_name": "Grace", "last_name": "Hopper", "email": "nope"}, bad...).
		problem(t, http.StatusUnprocessableEntity, "validation")

	var created api.CreatedUser
	first.json(t, &created)
	gen := map[string][]int64{"user_ids": {created.ID}}
	codesKey := []string{api.HeaderIdempotencyKey, "codes-for-ada"}
	one := a.adminCall(http.MethodPost, "/api/v1/codes", tok, gen, codesKey...)
	one.expect(t, http.StatusCreated)
	two := a.adminCall(http.MethodPost, "/api/v1/codes", tok, gen, codesKey...)
	var g1, g2 api.Generated
	one.json(t, &g1)
	two.json(t, &g2)
	if len(g1.Codes) != 1 || len(g2.Codes) != 1 || g1.Codes[0].Code != g2.Codes[0].Code {
		t.Fatalf("codes %+v then %+v", g1, g2)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM registration_codes WHERE sdp_user_id = ?", created.ID); n != 1 {
		t.Fatalf("%d codes", n)
	}
	// The stored response is sealed: no code in the clear at rest.
	if n := a.countSQL("SELECT COUNT(*) FROM api_idempotency_keys WHERE body LIKE ?", "%"+g1.Codes[0].Code+"%"); n != 0 {
		t.Fatal("a code is stored in the clear with its idempotent response")
	}
	// Another token's same key is its own.
	other := a.apiToken("acme", models.ScopeUsersWrite)
	a.adminCall(http.MethodPost, "/api/v1/users", other, map[string]string{"first_name": "Alan", "last_name": "Turing", "email": "alan@acme.test"}, key...).
		expect(t, http.StatusCreated)
}

// TestAPICodes: generating returns the codes once, lists show no code text, revoking ends
// them, the CSV (codes:read) has the active ones; users of another account are not found.
func TestAPICodes(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	tok := a.apiToken("acme", models.ScopeUsersRead, models.ScopeCodesWrite, models.ScopeCodesRead)
	u := a.sdpUser("acme", "ada@acme.test")
	mfa := a.sdpUser("acme", "mfa@acme.test")
	a.execSQL("UPDATE sdp_users SET mfa_configured = ? WHERE id = ?", true, mfa.ID)
	theirs := a.sdpUser("globex", "x@globex.test")
	var g api.Generated
	res := a.adminCall(http.MethodPost, "/api/v1/codes", tok, map[string][]int64{"user_ids": {u.ID, mfa.ID}})
	res.expect(t, http.StatusCreated)
	res.json(t, &g)
	if g.Generated != 1 || g.SkippedMFA != 1 || len(g.Codes) != 1 || g.Codes[0].Email != u.Email || !strings.HasPrefix(g.Codes[0].EnrollLink, "onramp://enroll?") {
		t.Fatalf("generated %+v", g)
	}
	a.adminCall(http.MethodPost, "/api/v1/codes", tok, map[string][]int64{"user_ids": {theirs.ID}}).problem(t, http.StatusUnprocessableEntity, "validation")
	if n := a.countSQL("SELECT COUNT(*) FROM registration_codes WHERE sdp_user_id = ?", theirs.ID); n != 0 {
		t.Fatal("a code for another account's user")
	}
	list := a.adminCall(http.MethodGet, "/api/v1/users/"+itoa(u.ID)+"/codes", tok, nil)
	if list.status != http.StatusOK || strings.Contains(list.raw, g.Codes[0].Code) || !strings.Contains(list.raw, `"state":"active"`) {
		t.Fatalf("code list %d %s", list.status, list.raw)
	}
	csv := a.adminCall(http.MethodGet, "/api/v1/codes.csv", tok, nil)
	if csv.status != http.StatusOK || !strings.Contains(csv.raw, g.Codes[0].Code) || !strings.HasPrefix(csv.raw, "First Name,Last Name,Email,Registration Code,Expires At") {
		t.Fatalf("CSV %d %s", csv.status, csv.raw)
	}
	a.adminCall(http.MethodDelete, "/api/v1/users/"+itoa(u.ID)+"/codes", tok, nil).expect(t, http.StatusNoContent)
	if !strings.Contains(a.adminCall(http.MethodGet, "/api/v1/users/"+itoa(u.ID)+"/codes", tok, nil).raw, `"state":"revoked"`) {
		t.Fatal("the code is not revoked")
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE sub_type = ? AND actor_type = ?", models.SubCodeRevoked, models.ActorAPIToken); n != 1 {
		t.Fatalf("%d Revoked events by the token", n)
	}
	a.adminCall(http.MethodDelete, "/api/v1/users/"+itoa(theirs.ID)+"/codes", tok, nil).problem(t, http.StatusNotFound, "not-found")
}

// TestAPIUsersActions: an action over ids runs with the console's rules; generate_code also
// needs codes:write; all_matching over more than a request's users starts a run to follow.
func TestAPIUsersActions(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	tok := a.apiToken("acme", models.ScopeUsersWrite)
	acc, _ := a.store.AccountByName(t.Context(), "acme")
	us := a.seedUsers(acc.ID, 1003, nil)
	var r api.ActionResult
	res := a.adminCall(http.MethodPost, "/api/v1/users/actions", tok, api.ActionInput{Action: "disable", IDs: []int64{us[0].ID, us[1].ID}})
	res.expect(t, http.StatusOK)
	res.json(t, &r)
	if r.Affected != 2 {
		t.Fatalf("disable %+v", r)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM sdp_users WHERE status = ?", models.UserDisabled); n != 2 {
		t.Fatalf("%d disabled", n)
	}
	a.adminCall(http.MethodPost, "/api/v1/users/actions", tok, api.ActionInput{Action: "generate_code", IDs: []int64{us[2].ID}}).
		problem(t, http.StatusForbidden, "insufficient-scope")
	a.adminCall(http.MethodPost, "/api/v1/users/actions", tok, api.ActionInput{Action: "explode", IDs: []int64{us[2].ID}}).
		problem(t, http.StatusUnprocessableEntity, "validation")
	a.adminCall(http.MethodPost, "/api/v1/users/actions", tok, api.ActionInput{Action: "enable"}).problem(t, http.StatusUnprocessableEntity, "validation")

	var run api.Run
	res = a.adminCall(http.MethodPost, "/api/v1/users/actions", tok, api.ActionInput{Action: "disable", AllMatching: true, Filter: map[string]string{"status": "enabled"}})
	res.expect(t, http.StatusAccepted)
	res.json(t, &run)
	if run.Total != 1001 || res.header.Get("Location") != "/api/v1/runs/"+itoa(run.ID) {
		t.Fatalf("run %+v, Location %q", run, res.header.Get("Location"))
	}
	a.adminCall(http.MethodPost, "/api/v1/users/actions", tok, api.ActionInput{Action: "enable", AllMatching: true}).problem(t, http.StatusConflict, "action-in-progress")
	a.startJobs()
	for {
		a.adminCall(http.MethodGet, "/api/v1/runs/"+itoa(run.ID), tok, nil).json(t, &run)
		if run.Status == string(models.RunDone) || run.Status == string(models.RunFailed) {
			break
		}
		time.Sleep(200 * time.Millisecond) // polls stay well within the token's rate limit
	}
	if run.Status != string(models.RunDone) || run.Affected != 1001 {
		t.Fatalf("run ended %+v", run)
	}
	other := a.apiToken("globex", models.ScopeUsersWrite)
	a.adminCall(http.MethodGet, "/api/v1/runs/"+itoa(run.ID), other, nil).problem(t, http.StatusNotFound, "not-found")
}

// TestAPIEventsAndDevices: the events search pages with a cursor and exports NDJSON (an
// Events Exported event records it); devices list and sign out.
func TestAPIEventsAndDevices(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	tok := a.apiToken("acme", models.ScopeEventsRead, models.ScopeDevicesWrite, models.ScopeUsersWrite)
	for _, e := range []string{"a@acme.test", "b@acme.test", "c@acme.test"} {
		a.adminCall(http.MethodPost, "/api/v1/users", tok, map[string]string{"first_name": "A", "last_name": "B", "email": e}).expect(t, http.StatusCreated)
	}
	var page api.EventPage
	a.adminCall(http.MethodGet, "/api/v1/events?type=User&subtype=Created&actor_type=token", tok, nil).json(t, &page)
	if len(page.Events) != 3 || page.Events[0].Actor != "API token script" {
		t.Fatalf("events %+v", page)
	}
	a.adminCall(http.MethodGet, "/api/v1/events?range=custom&from=yesterday", tok, nil).problem(t, http.StatusUnprocessableEntity, "validation")
	nd := a.adminCall(http.MethodGet, "/api/v1/events.ndjson?type=User", tok, nil)
	if nd.status != http.StatusOK || nd.header.Get("Content-Type") != api.ContentTypeNDJSON {
		t.Fatalf("export %d %v", nd.status, nd.header)
	}
	lines := 0
	sc := bufio.NewScanner(strings.NewReader(nd.raw))
	for sc.Scan() {
		var e api.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Type != "User" {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines++
	}
	if lines < 3 {
		t.Fatalf("%d lines", lines)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE sub_type = ? AND actor_type = ?", models.SubEventsExported, models.ActorAPIToken); n != 1 {
		t.Fatalf("%d Events Exported", n)
	}

	u := a.sdpUser("acme", "dev@acme.test")
	code := a.insertCode(u, 24*time.Hour)
	_, deviceID := a.register(code, "laptop")
	var dp api.DevicePage
	a.adminCall(http.MethodGet, "/api/v1/devices?state=active", tok, nil).json(t, &dp)
	if len(dp.Devices) != 1 || dp.Devices[0].ID != deviceID || dp.Devices[0].Email != u.Email {
		t.Fatalf("devices %+v", dp)
	}
	var so api.SignOut
	a.adminCall(http.MethodPost, "/api/v1/devices/"+itoa(deviceID)+"/sign-out", tok, nil).json(t, &so)
	if so.SignedOut != 1 {
		t.Fatalf("sign-out %+v", so)
	}
	other := a.apiToken("globex", models.ScopeDevicesWrite)
	a.adminCall(http.MethodPost, "/api/v1/devices/"+itoa(deviceID)+"/sign-out", other, nil).problem(t, http.StatusNotFound, "not-found")
}

// TestAPIProvisioning: settings read and change with the console's rules.
func TestAPIProvisioning(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	tok := a.apiToken("acme", models.ScopeSettingsRead, models.ScopeSettingsWrite)
	var s api.Provisioning
	a.adminCall(http.MethodGet, "/api/v1/settings/provisioning", tok, nil).json(t, &s)
	if s.Method != string(models.MethodInvitationEmail) {
		t.Fatalf("settings %+v", s)
	}
	p := a.adminCall(http.MethodPatch, "/api/v1/settings/provisioning", tok, map[string]any{"code_expiry_value": 8, "code_expiry_unit": "days"}).
		problem(t, http.StatusUnprocessableEntity, "validation")
	if !strings.Contains(p.Errors["code_expiry_value"], "7 days") {
		t.Fatalf("problem %+v", p)
	}
	u := a.sdpUser("acme", "mfa@acme.test")
	a.execSQL("UPDATE sdp_users SET mfa_configured = ? WHERE id = ?", true, u.ID)
	a.adminCall(http.MethodPatch, "/api/v1/settings/provisioning", tok, map[string]any{"method": "registration_code"}).problem(t, http.StatusConflict, "mfa-users")
	a.execSQL("UPDATE sdp_users SET mfa_configured = ? WHERE id = ?", false, u.ID)
	res := a.adminCall(http.MethodPatch, "/api/v1/settings/provisioning", tok, map[string]any{"method": "registration_code", "code_expiry_value": 2, "code_expiry_unit": "days"})
	res.expect(t, http.StatusOK)
	res.json(t, &s)
	if s.Method != "registration_code" || s.CodeExpiryValue != 2 || s.InviteManual != true {
		t.Fatalf("saved %+v", s)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM events WHERE sub_type = ? AND actor_type = ?", models.SubSettingsChanged, models.ActorAPIToken); n != 1 {
		t.Fatalf("%d Settings Changed by the token", n)
	}
	// Under the Registration Code method a user created through the API comes with their code.
	users := a.apiToken("acme", models.ScopeUsersWrite)
	var cu api.CreatedUser
	a.adminCall(http.MethodPost, "/api/v1/users", users, map[string]string{"first_name": "Ada", "last_name": "L", "email": "ada@acme.test"}).json(t, &cu)
	if cu.RegistrationCode == nil || len(cu.RegistrationCode.Code) != 19 {
		t.Fatalf("created under the code method: %+v", cu)
	}
}
