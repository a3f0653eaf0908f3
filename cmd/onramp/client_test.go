package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"onramp/handlers"
	"onramp/migrations"
	"onramp/models"
	"onramp/models/codes"
	"onramp/models/devices"
	"onramp/models/mail"
	"onramp/models/password"
	"onramp/models/portal"
	"onramp/models/secret"
	"onramp/models/services"
	"onramp/models/store"
	"onramp/models/store/storetest"
	"onramp/views/emails"
)

const clientTestPassword = "violet harbour lantern"

// clientServer is the real router on an httptest server, for the reference client to talk to.
type clientServer struct {
	t       *testing.T
	url     string
	store   *store.Store
	sealer  *codes.Sealer
	portal  *portal.Service
	devices *devices.Service
	account *models.Account

	mu  sync.Mutex
	now time.Time
}

func newClientServer(t *testing.T) *clientServer {
	t.Helper()
	s := storetest.Open(t)
	cs := &clientServer{t: t, store: s, now: time.Now().UTC()}
	keys := secret.NewKeys([]byte("client-test-secret-client-test-secret"))
	sv, err := services.New(s, services.Config{Keys: keys, Hasher: password.NewFastHasher(), BaseURL: "http://onramp.test",
		Mail: mail.Config{From: "Onramp <onramp@onramp.test>"}, Renderer: emails.NewRenderer("http://onramp.test"), Clock: cs.clock})
	if err != nil {
		t.Fatal(err)
	}
	cs.sealer, cs.portal, cs.devices = sv.Codes.Sealer(), sv.Portal, sv.Devices
	srv := httptest.NewServer(handlers.New(sv, handlers.Config{Keys: keys, BaseURL: "http://onramp.test", Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	cs.url = srv.URL
	cs.account = models.NewAccount("acme")
	if err := s.CreateAccount(context.Background(), cs.account); err != nil {
		t.Fatal(err)
	}
	return cs
}

func (cs *clientServer) clock() time.Time {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.now
}

func (cs *clientServer) advance(d time.Duration) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.now = cs.now.Add(d)
}

// user creates an SDP user; with a password, an activated one.
func (cs *clientServer) user(email, pw string) *models.SDPUser {
	cs.t.Helper()
	ctx := context.Background()
	u := &models.SDPUser{AccountID: cs.account.ID, FirstName: "Grace", LastName: "Hopper", Email: email, Origin: models.OriginManual,
		Status: models.UserEnabled, Activation: models.ActivationNew}
	if pw != "" {
		hash, err := password.NewFastHasher().Hash(pw)
		if err != nil {
			cs.t.Fatal(err)
		}
		u.PasswordHash, u.Activation = hash, models.ActivationActive
	}
	if err := cs.store.CreateUser(ctx, u); err != nil {
		cs.t.Fatal(err)
	}
	return u
}

// code inserts an active code for u and returns it as an admin would hand it out.
func (cs *clientServer) code(u *models.SDPUser) string {
	cs.t.Helper()
	code := codes.New()
	q := `INSERT INTO registration_codes (account_id, sdp_user_id, lookup_hash, encrypted, generated_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, 'admin', ?, ?)`
	if cs.store.Dialect() == migrations.Postgres {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", "$"+strconv.Itoa(i), 1)
		}
	}
	now := cs.clock()
	if _, err := cs.store.SQLDB().Exec(q, u.AccountID, u.ID, cs.sealer.Lookup(code), cs.sealer.Seal(u.AccountID, code), now, now.Add(time.Hour)); err != nil {
		cs.t.Fatal(err)
	}
	return codes.Format(code)
}

// clientRun runs `onramp client …` with the config file at path.
func clientRun(path, stdin string, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	env := func(k string) string {
		if k == "ONRAMP_CLIENT_CONFIG" {
			return path
		}
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = run(ctx, append([]string{"client"}, args...), env, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func exitCode(err error) int {
	var e *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &e):
		return e.ExitCode()
	}
	return 1
}

func readClientConfig(t *testing.T, path string) clientConfig {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg clientConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestClientRegisterAndStatus(t *testing.T) {
	t.Parallel()
	cs := newClientServer(t)
	u := cs.user("grace@example.com", "")
	code := cs.code(u)
	path := filepath.Join(t.TempDir(), "cfg", "onramp", "client.json")

	out, _, err := clientRun(path, "", "register", "--server", cs.url+"/", "--code", strings.ToLower(code), "--device-name", "Grace's laptop", "--platform", "linux")
	if err != nil {
		t.Fatalf("register: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Registered device") || !strings.Contains(out, "grace@example.com") || !strings.Contains(out, path) {
		t.Fatalf("register said:\n%s", out)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("client.json has mode %o, want 600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm() != 0o700 {
		t.Fatalf("its directory has mode %o, want 700", di.Mode().Perm())
	}
	cfg := readClientConfig(t, path)
	if cfg.Server != cs.url || cfg.DeviceID == 0 || len(cfg.DeviceToken) < 43 || cfg.Email != "grace@example.com" || cfg.Account != "acme" {
		t.Fatalf("client.json: %+v", cfg)
	}
	if strings.Contains(out, cfg.DeviceToken) {
		t.Fatal("the device token was printed")
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".client-*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}

	out, _, err = clientRun(path, "", "status")
	if err != nil || !strings.Contains(out, "is active") || !strings.Contains(out, "grace@example.com") {
		t.Fatalf("status: %v\n%s", err, out)
	}

	// A used code is refused by the server: exit code 3, and the file keeps the first device.
	_, _, err = clientRun(path, "", "register", "--server", cs.url, "--code", code)
	if exitCode(err) != exitRefused || !strings.Contains(err.Error(), "code_used") {
		t.Fatalf("second registration: %v (exit %d)", err, exitCode(err))
	}
	if readClientConfig(t, path).DeviceToken != cfg.DeviceToken {
		t.Fatal("a refused registration replaced the credential")
	}

	// An admin signs the device out: status says so clearly, with exit code 3.
	admin := &models.Admin{ID: 1, AccountID: cs.account.ID, Email: "boss@example.com", Role: models.RoleAdmin}
	if _, err := cs.devices.SignOutByAdmin(context.Background(), admin, "192.0.2.1", u.ID, cfg.DeviceID); err != nil {
		t.Fatal(err)
	}
	out, _, err = clientRun(path, "", "status")
	if exitCode(err) != exitRefused || !strings.Contains(out, "is signed out") || !strings.Contains(out, "onramp client register") {
		t.Fatalf("status after sign-out: %v (exit %d)\n%s", err, exitCode(err), out)
	}

	// Nothing registered, a bad URL, an unreachable server: ordinary failures (exit 1).
	_, _, err = clientRun(filepath.Join(t.TempDir(), "none.json"), "", "status")
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "no device is registered") {
		t.Fatalf("status without a registration: %v", err)
	}
	if _, _, err = clientRun(path, "", "register", "--server", "vpn.example.com", "--code", code); exitCode(err) != 1 {
		t.Fatalf("a server without a scheme: %v", err)
	}
	if _, _, err = clientRun(path, "", "status", "--server", "http://127.0.0.1:1"); exitCode(err) != 1 || !strings.Contains(err.Error(), "cannot reach") {
		t.Fatalf("an unreachable server: %v", err)
	}
}

func TestClientLoginCommand(t *testing.T) {
	t.Parallel()
	cs := newClientServer(t)
	cs.user("grace@example.com", clientTestPassword)
	path := filepath.Join(t.TempDir(), "client.json")

	_, _, err := clientRun(path, "not the password\n", "login", "--server", cs.url, "--account", "acme", "--email", "grace@example.com")
	if exitCode(err) != exitRefused || !strings.Contains(err.Error(), "invalid_credentials") {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a refused sign-in wrote a configuration")
	}
	out, errOut, err := clientRun(path, clientTestPassword+"\n", "login", "--server", cs.url, "--account", "acme", "--email", "grace@example.com", "--device-name", "desk")
	if err != nil {
		t.Fatalf("login: %v\n%s%s", err, out, errOut)
	}
	if strings.Contains(out+errOut, clientTestPassword) {
		t.Fatal("the password was printed")
	}
	if out, _, err = clientRun(path, "", "status"); err != nil || !strings.Contains(out, "is active") {
		t.Fatalf("status: %v\n%s", err, out)
	}
}

func TestClientLoginAsksForTheAuthenticatorCode(t *testing.T) {
	t.Parallel()
	cs := newClientServer(t)
	u := cs.user("grace@example.com", clientTestPassword)
	// Enroll TOTP the way the portal does, then move to the next time step (a code works once).
	cur := &portal.Current{User: u, Account: cs.account, SessionID: "enrolling"}
	e, err := cs.portal.BeginTOTP(cur)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := totp.GenerateCode(e.Secret, cs.clock())
	if err := cs.portal.ConfirmTOTP(context.Background(), cur, e.Pending, first, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	cs.advance(31 * time.Second)
	code, _ := totp.GenerateCode(e.Secret, cs.clock())
	path := filepath.Join(t.TempDir(), "client.json")
	args := []string{"login", "--server", cs.url, "--account", "acme", "--email", "grace@example.com"}

	// Without a code anywhere, the client says what is missing.
	_, _, err = clientRun(path, clientTestPassword+"\n", args...)
	if exitCode(err) != exitRefused || !strings.Contains(err.Error(), "mfa_required") || !strings.Contains(err.Error(), "--totp") {
		t.Fatalf("login without a code: %v", err)
	}
	// The code on the next line of stdin, asked for after the server's mfa_required.
	out, _, err := clientRun(path, clientTestPassword+"\n"+code+"\n", args...)
	if err != nil || !strings.Contains(out, "Registered device") {
		t.Fatalf("login with the code: %v\n%s", err, out)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}
