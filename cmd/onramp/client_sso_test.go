package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onramp/handlers"
	"onramp/models"
	"onramp/models/mail"
	"onramp/models/password"
	"onramp/models/secret"
	"onramp/models/services"
	"onramp/models/sso"
	"onramp/models/sso/ssotest"
	"onramp/models/store/storetest"
	"onramp/views/emails"
)

// `onramp client login --sso` end to end: the reference client starts the sign-in and prints
// the link; a browser (an HTTP client with cookies) opens it, continues to the real OpenID
// provider, signs in there and comes back; the client's poll then gets the device, which it
// saves, and `client status` finds it active. The server runs on the real clock: the client
// waits the server's interval (5 seconds) before its poll.
func TestClientLoginSSOEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Open(t)
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	keys := secret.NewKeys([]byte("client-test-secret-client-test-secret"))
	sv, err := services.New(s, services.Config{Keys: keys, Hasher: password.NewFastHasher(), BaseURL: base,
		Mail: mail.Config{From: "Onramp <onramp@onramp.test>"}, Renderer: emails.NewRenderer(base)})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = handlers.New(sv, handlers.Config{Keys: keys, BaseURL: base, Logger: slog.New(slog.DiscardHandler)})
	srv.Start()
	t.Cleanup(srv.Close)
	op := ssotest.StartProvider(t)
	op.AllowRedirect(sv.SSO.RedirectURI())
	account := models.NewAccount("acme")
	if err := s.CreateAccount(ctx, account); err != nil {
		t.Fatal(err)
	}
	if _, err := sv.SSO.Save(ctx, account.ID, models.Actor{Type: models.ActorAdmin}, sso.Input{Enabled: true, Issuer: op.Issuer,
		ClientID: op.ClientID, ClientSecret: op.ClientSecret}); err != nil {
		t.Fatal(err)
	}
	grace := &models.SDPUser{AccountID: account.ID, FirstName: "Grace", LastName: "Hopper", Email: "grace@example.com",
		Origin: models.OriginManual, Status: models.UserEnabled, Activation: models.ActivationNew}
	if err := s.CreateUser(ctx, grace); err != nil {
		t.Fatal(err)
	}
	person := op.AddUser(ssotest.User{Email: "grace@example.com", EmailVerified: true})

	path := filepath.Join(t.TempDir(), "client.json")
	env := func(k string) string {
		if k == "ONRAMP_CLIENT_CONFIG" {
			return path
		}
		return ""
	}
	out, w := io.Pipe()
	done := make(chan error, 1)
	runCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	go func() {
		err := run(runCtx, []string{"client", "login", "--sso", "--server", base, "--account", "acme", "--device-name", "Grace's laptop"},
			env, nil, w, io.Discard)
		w.CloseWithError(io.EOF)
		done <- err
	}()
	lines := bufio.NewScanner(out)
	var link, printed string
	for link == "" && lines.Scan() {
		printed += lines.Text() + "\n"
		if l := strings.TrimSpace(lines.Text()); strings.HasPrefix(l, base+"/sso/client/") {
			link = l
		}
	}
	if link == "" {
		t.Fatalf("the client printed no link:\n%s", printed)
	}
	rest := make(chan string, 1)
	go func() { b, _ := io.ReadAll(out); rest <- string(b) }()

	// The browser.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := browser.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfField.FindStringSubmatch(string(page))
	if res.StatusCode != http.StatusOK || m == nil || !strings.Contains(string(page), "Grace&#39;s laptop") {
		t.Fatalf("link page: %d\n%s", res.StatusCode, page)
	}
	res, err = browser.PostForm(link, url.Values{"_csrf": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back, err := op.SignIn(http.DefaultClient, res.Header.Get("Location"), person)
	if err != nil {
		t.Fatal(err)
	}
	res, err = browser.Get(back.String())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("callback: %d", res.StatusCode)
	}

	if err := <-done; err != nil {
		t.Fatalf("client login --sso: %v\n%s%s", err, printed, <-rest)
	}
	// After the link: its QR code (block characters), then the registration.
	if tail := <-rest; !strings.ContainsAny(tail, "█▀▄") || !strings.Contains(tail, "Registered device") {
		t.Fatalf("output:\n%s%s", printed, tail)
	}
	stdout, _, err := clientRun(path, "", "status")
	if err != nil || !strings.Contains(stdout, "is active: signed in as Grace Hopper (grace@example.com), account acme") {
		t.Fatalf("client status: %v\n%s", err, stdout)
	}
}
