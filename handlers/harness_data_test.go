package handlers_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/codes"
	"onramp/models/password"
	"onramp/models/secret"
	"onramp/models/store"
	"onramp/models/users"
)

// seedUsers inserts n users of an account straight into the store.
func (a *testApp) seedUsers(accountID int64, n int, tweak func(i int, u *models.SDPUser)) []*models.SDPUser {
	a.t.Helper()
	us := make([]*models.SDPUser, n)
	for i := range us {
		us[i] = &models.SDPUser{AccountID: accountID, FirstName: fmt.Sprintf("First%05d", i), LastName: fmt.Sprintf("Last%05d", i),
			Email: fmt.Sprintf("user%05d@example.com", i), Origin: models.OriginManual, Status: models.UserEnabled, Activation: models.ActivationNew}
		if tweak != nil {
			tweak(i, us[i])
		}
	}
	if err := a.store.CreateUsers(context.Background(), us); err != nil {
		a.t.Fatal(err)
	}
	return us
}

func (a *testApp) user(accountID, id int64) *models.SDPUser {
	a.t.Helper()
	u, err := a.store.User(context.Background(), accountID, id)
	if err != nil {
		a.t.Fatal(err)
	}
	return u
}

func usersInput(email string) users.CreateInput {
	return users.CreateInput{FirstName: "Test", LastName: "User", Email: email}
}

// sdpUser creates an SDP user (invited, not yet active) in account, which is created when
// missing.
func (a *testApp) sdpUser(account, email string) *models.SDPUser {
	a.t.Helper()
	ctx := context.Background()
	acc, err := a.store.AccountByName(ctx, account)
	if err != nil {
		acc = models.NewAccount(account)
		if err := a.store.CreateAccount(ctx, acc); err != nil {
			a.t.Fatal(err)
		}
	}
	u := &models.SDPUser{AccountID: acc.ID, FirstName: "Grace", LastName: "Hopper", Email: email, Origin: models.OriginManual,
		Status: models.UserEnabled, Activation: models.ActivationInvitationSent}
	if err := a.store.CreateUser(ctx, u); err != nil {
		a.t.Fatal(err)
	}
	return u
}

// activationLink issues an activation link for u, valid for ttl on the app's clock.
func (a *testApp) activationLink(u *models.SDPUser, ttl time.Duration) string {
	a.t.Helper()
	token := secret.Token()
	err := a.store.CreateToken(context.Background(), &models.OneTimeToken{Purpose: models.TokenUserActivation,
		TokenHash: secret.Hash(token), AccountID: &u.AccountID, SDPUserID: &u.ID, ExpiresAt: a.clock().Add(ttl)})
	if err != nil {
		a.t.Fatal(err)
	}
	return "/myvpn/activate/" + token
}

// activeSDPUser creates an activated user whose password is testPassword.
func (a *testApp) activeSDPUser(account, email string) *models.SDPUser {
	a.t.Helper()
	u := a.sdpUser(account, email)
	hash, err := password.NewFastHasher().Hash(testPassword)
	if err != nil {
		a.t.Fatal(err)
	}
	if err := a.store.ActivateUser(context.Background(), u.AccountID, u.ID, hash); err != nil {
		a.t.Fatal(err)
	}
	return a.reload(u)
}

// setStatus enables or disables a user behind the services' back (no event, no sign-out).
func (a *testApp) setStatus(u *models.SDPUser, st models.UserStatus) {
	a.t.Helper()
	if err := a.store.SetUsersStatus(context.Background(), u.AccountID, []int64{u.ID}, st); err != nil {
		a.t.Fatal(err)
	}
}

func (a *testApp) reload(u *models.SDPUser) *models.SDPUser {
	a.t.Helper()
	got, err := a.store.User(context.Background(), u.AccountID, u.ID)
	if err != nil {
		a.t.Fatal(err)
	}
	return got
}

// portalEvents counts events of a type and sub-type.
func (a *testApp) portalEvents(typ models.EventType, sub string) int {
	a.t.Helper()
	var n int
	err := a.store.SQLDB().QueryRow("SELECT COUNT(*) FROM events WHERE type = '" + string(typ) + "' AND sub_type = '" + sub + "'").Scan(&n)
	if err != nil {
		a.t.Fatal(err)
	}
	return n
}

// portalLogin posts the portal sign-in form (after loading it for the CSRF token).
func (c *client) portalLogin(account, email, pw, code string) response {
	c.t.Helper()
	c.get("/myvpn/login")
	return c.post("/myvpn/login", url.Values{"account": {account}, "email": {email}, "password": {pw}, "totp": {code}})
}

// portalSignIn signs in to the portal and fails the test unless it works.
func (c *client) portalSignIn(account, email, pw, code string) {
	c.t.Helper()
	r := c.portalLogin(account, email, pw, code)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/myvpn" {
		c.t.Fatalf("portal sign-in as %s: %d %s\n%s", email, r.StatusCode, r.Header.Get("Location"), snippet(r.body))
	}
}

// expectPortalLogin checks that a response sends the visitor to the portal's sign-in page.
func expectPortalLogin(t *testing.T, r response) {
	t.Helper()
	expectStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "/myvpn/login") {
		t.Fatalf("sent to %q, want the portal sign-in", loc)
	}
}

// insertCode gives u a new active code that expires ttl from the app's clock (negative: already
// expired) and returns it, formatted as people type it.
func (a *testApp) insertCode(u *models.SDPUser, ttl time.Duration) string {
	a.t.Helper()
	code := codes.New()
	now := a.clock()
	a.execSQL(`INSERT INTO registration_codes (account_id, sdp_user_id, lookup_hash, encrypted, generated_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, 'admin', ?, ?)`, u.AccountID, u.ID, a.sealer.Lookup(code), a.sealer.Seal(u.AccountID, code), now, now.Add(ttl))
	return codes.Format(code)
}

// apiResult is an answer of the client API.
type apiResult struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// expectAPI checks the status and, for errors, the error code and that a message is there.
func expectAPI(t *testing.T, r apiResult, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if code != "" && (r.str("error") != code || r.str("message") == "") {
		t.Fatalf("body %s, want error %q with a message", r.raw, code)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q", ct)
	}
}

// api calls the client API like a VPN client: JSON, no cookies, an optional bearer token.
func (a *testApp) api(method, path, token string, body any) apiResult {
	a.t.Helper()
	return a.apiWith(nil, method, path, token, body)
}

// apiWith is api with more request headers.
func (a *testApp) apiWith(header http.Header, method, path, token string, body any) apiResult {
	a.t.Helper()
	r, err := a.apiCallWith(header, method, path, token, body)
	if err != nil {
		a.t.Fatal(err)
	}
	return r
}

// apiCall is api for goroutines (it does not end the test).
func (a *testApp) apiCall(method, path, token string, body any) (apiResult, error) {
	return a.apiCallWith(nil, method, path, token, body)
}

func (a *testApp) apiCallWith(header http.Header, method, path, token string, body any) (apiResult, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, a.srv.URL+path, rd)
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := apiHTTP.Do(req)
	if err != nil {
		return apiResult{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return apiResult{}, err
	}
	out := apiResult{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if err := json.Unmarshal(raw, &out.body); err != nil {
		return out, fmt.Errorf("%s %s: %d, not JSON: %.300s", method, path, res.StatusCode, raw)
	}
	return out, nil
}

func registerBody(code, name string) map[string]string {
	return map[string]string{"code": code, "device_name": name, "platform": "linux"}
}

// register redeems a code and fails the test unless it works; it returns the device token.
func (a *testApp) register(code, name string) (token string, deviceID int64) {
	a.t.Helper()
	r := a.api("POST", "/api/v1/client/register", "", registerBody(code, name))
	if r.status != http.StatusCreated {
		a.t.Fatalf("register: %d %s", r.status, r.raw)
	}
	id, _ := r.body["device_id"].(float64)
	return r.str("device_token"), int64(id)
}

// clientEvents counts the events of a type and sub-type whose details hold want.
func (a *testApp) clientEvents(typ models.EventType, sub, want string) int {
	a.t.Helper()
	return a.countSQL("SELECT COUNT(*) FROM events WHERE type = ? AND sub_type = ? AND details LIKE ?", string(typ), sub, "%"+want+"%")
}

func loginBody(email, pw, code string) map[string]string {
	return map[string]string{"account": "acme", "email": email, "password": pw, "totp": code, "device_name": "laptop", "platform": "macos"}
}

// userCodes lists a user's codes, newest first.
func (a *testApp) userCodes(accountID, userID int64) []store.UserCode {
	a.t.Helper()
	cs, err := a.store.UserCodes(context.Background(), accountID, userID, 1000)
	if err != nil {
		a.t.Fatal(err)
	}
	return cs
}

// codeText decrypts a code (tests check it never shows where it must not).
func (a *testApp) codeText(c store.UserCode) string {
	a.t.Helper()
	text, err := a.Codes.Sealer().Open(c.AccountID, c.Encrypted)
	if err != nil {
		a.t.Fatal(err)
	}
	return text
}

// csvRows parses a CSV body.
func csvRows(t *testing.T, body string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	return rows
}

var activationLinkRE = regexp.MustCompile(`http://onramp\.test/myvpn/activate/[A-Za-z0-9_-]+`)

// messagesTo lists the account's queued messages of a kind to an email, oldest first.
func (a *testApp) messagesTo(accountID int64, kind models.MailKind, email string) []models.MailMessage {
	a.t.Helper()
	var out []models.MailMessage
	var after int64
	for {
		page, err := a.store.ListMailMessages(context.Background(), accountID, after, 200)
		if err != nil {
			a.t.Fatal(err)
		}
		for _, m := range page.Messages {
			if m.Kind == kind && m.ToEmail == email {
				out = append([]models.MailMessage{m}, out...)
			}
		}
		if page.NextAfter == 0 {
			return out
		}
		after = page.NextAfter
	}
}

// invitationLinks returns the activation links mailed to an email, oldest first.
func (a *testApp) invitationLinks(accountID int64, email string) []string {
	var links []string
	for _, m := range a.messagesTo(accountID, models.MailInvitation, email) {
		full, err := a.store.MailMessage(context.Background(), accountID, m.ID)
		if err != nil {
			a.t.Fatal(err)
		}
		if l := activationLinkRE.FindString(full.Text()); l != "" {
			links = append(links, l)
		}
	}
	return links
}

// disabledNotices counts the disabled notices mailed to an email.
func (a *testApp) disabledNotices(accountID int64, email string) int {
	return len(a.messagesTo(accountID, models.MailDisabledNotice, email))
}
