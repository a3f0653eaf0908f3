package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"golang.org/x/term"
)

// The reference VPN client (docs/client-api.md): what a real client does with the client API, so that
// a newcomer can try the whole flow from a terminal. It keeps the device credential in the
// user's config directory, readable by the user only, and never prints it.

// Exit codes of `onramp client` beyond 0 (success) and 1 (any other failure): a script can tell
// "the server said no" from "could not ask".
const exitRefused = 3

// exitError carries a process exit code with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// ExitCode is the status the process exits with.
func (e *exitError) ExitCode() int { return e.code }

const clientUsage = `usage:
  onramp client register --server URL --code CODE [--device-name N] [--platform P]
  onramp client register 'onramp://enroll?server=URL&account=A&code=CODE' [--device-name N] [--platform P]
  onramp client login --server URL --account A --email E [--totp CODE] [--device-name N] [--platform P]
  onramp client login --sso --server URL --account A [--device-name N] [--platform P]
  onramp client status [--server URL]`

// clientConfig is what the client keeps between runs (client.json, mode 0600).
type clientConfig struct {
	Server      string `json:"server"`
	DeviceID    int64  `json:"device_id"`
	DeviceToken string `json:"device_token"`
	Email       string `json:"email"`
	Account     string `json:"account"`
}

func clientCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(clientUsage)
	}
	path, err := clientConfigPath(getenv)
	if err != nil {
		return err
	}
	switch args[0] {
	case "register":
		return clientRegister(ctx, args[1:], path, stdout, stderr)
	case "login":
		return clientLogin(ctx, args[1:], path, stdin, stdout, stderr)
	case "status":
		return clientStatus(ctx, args[1:], path, stdout, stderr)
	}
	return fmt.Errorf("unknown client command %q\n%s", args[0], clientUsage)
}

// clientConfigPath is ONRAMP_CLIENT_CONFIG, or client.json in the user's config directory
// (~/.config/onramp on Linux, ~/Library/Application Support/onramp on macOS, %AppData%\onramp on
// Windows).
func clientConfigPath(getenv func(string) string) (string, error) {
	if p := getenv("ONRAMP_CLIENT_CONFIG"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("client: no config directory (set ONRAMP_CLIENT_CONFIG): %w", err)
	}
	return filepath.Join(dir, "onramp", "client.json"), nil
}

// deviceFlags are the flags register and login share.
type deviceFlags struct {
	server, name, platform *string
}

func newClientFlags(name string, stderr io.Writer) (*flag.FlagSet, deviceFlags) {
	fs := flag.NewFlagSet("client "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	host, _ := os.Hostname()
	return fs, deviceFlags{
		server:   fs.String("server", "", "the Onramp server's URL, e.g. https://vpn.example.com"),
		name:     fs.String("device-name", host, "a name for this device, shown to you and your admins"),
		platform: fs.String("platform", runtime.GOOS, "the device's platform"),
	}
}

func clientRegister(ctx context.Context, args []string, path string, stdout, stderr io.Writer) error {
	fs, df := newClientFlags("register", stderr)
	code := fs.String("code", "", "the registration code from your administrator (XXXX-XXXX-XXXX-XXXX)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var link *enrollment
	if fs.NArg() > 0 {
		arg := fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil { // flags may follow the link
			return err
		}
		if fs.NArg() > 0 {
			return errors.New("client register: give one enrollment link, and flags\n" + clientUsage)
		}
		e, err := parseEnrollLink(arg)
		if err != nil {
			return err
		}
		if err := e.merge(df.server, code); err != nil {
			return err
		}
		link = &e
	}
	if *df.server == "" || *code == "" {
		return errors.New("client register: --server and --code (or an enrollment link) are required\n" + clientUsage)
	}
	api, err := newAPIClient(*df.server, stderr)
	if err != nil {
		return err
	}
	var reg registration
	err = api.call(ctx, http.MethodPost, "/api/v1/client/register", "",
		map[string]string{"code": *code, "device_name": *df.name, "platform": *df.platform}, &reg)
	if err != nil {
		return refused("registration refused", err)
	}
	if link != nil && reg.Account != link.account {
		fmt.Fprintf(stderr, "warning: the enrollment link names account %s, but the code registered this device in account %s\n", link.account, reg.Account)
	}
	return saveRegistration(path, api.base, reg, stdout)
}

func clientLogin(ctx context.Context, args []string, path string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, df := newClientFlags("login", stderr)
	account := fs.String("account", "", "your account name (as on the MyVPN portal)")
	email := fs.String("email", "", "your email")
	totp := fs.String("totp", "", "the code of your authenticator app, when two-step verification is on (asked for when needed)")
	useSSO := fs.Bool("sso", false, "sign in with your company's identity provider in a browser (single sign-on) instead of a password")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *useSSO {
		if *df.server == "" || *account == "" || *email != "" || *totp != "" {
			return errors.New("client login --sso: --server and --account are required; the identity provider asks for the rest\n" + clientUsage)
		}
		return clientLoginSSO(ctx, df, *account, path, stdout, stderr)
	}
	if *df.server == "" || *account == "" || *email == "" {
		return errors.New("client login: --server, --account and --email are required\n" + clientUsage)
	}
	api, err := newAPIClient(*df.server, stderr)
	if err != nil {
		return err
	}
	in := newPrompter(stdin, stderr)
	pw, err := in.secret("Password: ")
	if err != nil {
		return err
	}
	if pw == "" {
		return errors.New("client login: no password (type it at the prompt, or pipe it on stdin)")
	}
	body := map[string]string{"account": *account, "email": *email, "password": pw, "totp": *totp,
		"device_name": *df.name, "platform": *df.platform}
	var reg registration
	err = api.call(ctx, http.MethodPost, "/api/v1/client/login", "", body, &reg)
	var se *serverError
	if errors.As(err, &se) && se.Code == "mfa_required" && *totp == "" {
		// The password was right: ask for the authenticator code and sign in again.
		code, rerr := in.line("Authenticator code: ")
		if rerr != nil || code == "" {
			return refused("sign-in refused", fmt.Errorf("%w (pass --totp CODE, or type the code at the prompt)", err))
		}
		body["totp"] = code
		err = api.call(ctx, http.MethodPost, "/api/v1/client/login", "", body, &reg)
	}
	if err != nil {
		return refused("sign-in refused", err)
	}
	return saveRegistration(path, api.base, reg, stdout)
}

func clientStatus(ctx context.Context, args []string, path string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("client status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "", "the server to ask (default: the one this device registered with)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadClientConfig(path, stderr)
	if err != nil {
		return err
	}
	if *server == "" {
		*server = cfg.Server
	}
	api, err := newAPIClient(*server, stderr)
	if err != nil {
		return err
	}
	var sess struct {
		DeviceID int64      `json:"device_id"`
		User     clientUser `json:"user"`
		Status   string     `json:"status"`
	}
	err = api.call(ctx, http.MethodGet, "/api/v1/client/session", cfg.DeviceToken, nil, &sess)
	var se *serverError
	if errors.As(err, &se) && se.Code == "invalid_token" {
		fmt.Fprintf(stdout, "Device %d (%s, account %s) is signed out: the server no longer accepts its credential.\n",
			cfg.DeviceID, cfg.Email, cfg.Account)
		fmt.Fprintln(stdout, "An admin signed it out, reset your password or disabled your account, or you signed it out on MyVPN.")
		fmt.Fprintln(stdout, "Register it again with `onramp client register` (a new code) or `onramp client login`.")
		return &exitError{code: exitRefused, err: errors.New("client status: this device is signed out")}
	}
	if err != nil {
		return fmt.Errorf("client status: %w", err)
	}
	fmt.Fprintf(stdout, "Device %d is active: signed in as %s (%s), account %s, on %s.\n",
		sess.DeviceID, fullName(sess.User), sess.User.Email, cfg.Account, api.base)
	return nil
}

type clientUser struct {
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

func fullName(u clientUser) string { return strings.TrimSpace(u.FirstName + " " + u.LastName) }

type registration struct {
	DeviceID    int64      `json:"device_id"`
	DeviceToken string     `json:"device_token"`
	User        clientUser `json:"user"`
	Account     string     `json:"account"`
}

// saveRegistration keeps the new credential and says what happened (never the token).
func saveRegistration(path, server string, reg registration, stdout io.Writer) error {
	if reg.DeviceToken == "" || reg.DeviceID == 0 {
		return errors.New("client: the server's answer has no device credential")
	}
	cfg := clientConfig{Server: server, DeviceID: reg.DeviceID, DeviceToken: reg.DeviceToken, Email: reg.User.Email, Account: reg.Account}
	if err := saveClientConfig(path, cfg); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Registered device %d for %s (%s), account %s.\n", reg.DeviceID, fullName(reg.User), reg.User.Email, reg.Account)
	fmt.Fprintf(stdout, "Its credential is saved in %s (readable by you only). Check it with `onramp client status`.\n", path)
	return nil
}

// saveClientConfig writes the file atomically (a temporary file renamed over it), mode 0600 in
// a directory of mode 0700: the token opens the VPN for whoever reads it.
func saveClientConfig(path string, cfg clientConfig) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".client-*.json") // created with mode 0600
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return fmt.Errorf("client: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("client: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	return nil
}

func loadClientConfig(path string, stderr io.Writer) (clientConfig, error) {
	var cfg clientConfig
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return cfg, fmt.Errorf("client: no device is registered here (%s does not exist): run `onramp client register` or `onramp client login` first", path)
	}
	if err != nil {
		return cfg, fmt.Errorf("client: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 && runtime.GOOS != "windows" {
		fmt.Fprintf(stderr, "warning: %s is readable by others (mode %o): run chmod 600 on it\n", path, fi.Mode().Perm())
	}
	if err := json.Unmarshal(b, &cfg); err != nil || cfg.DeviceToken == "" || cfg.Server == "" {
		return cfg, fmt.Errorf("client: %s is not a client configuration: register again", path)
	}
	return cfg, nil
}

// apiClient calls the client API of one server.
type apiClient struct {
	base string
	http *http.Client
}

func newAPIClient(server string, stderr io.Writer) (*apiClient, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(server), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: --server must be a URL such as https://vpn.example.com, not %q", server)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		fmt.Fprintln(stderr, "warning: the server URL is not https: the code, password and device credential cross the network unencrypted")
	}
	return &apiClient{base: u.String(), http: &http.Client{Timeout: 30 * time.Second}}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// serverError is an error answer of the API: {"error": code, "message": text}.
type serverError struct {
	Status     int
	Code       string
	Message    string
	RetryAfter string
}

func (e *serverError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.RetryAfter != "" {
		msg += " (retry after " + e.RetryAfter + " s)"
	}
	return fmt.Sprintf("%s [%s, HTTP %d]", msg, e.Code, e.Status)
}

// call sends body as JSON (unless nil) with the bearer token (unless empty) and decodes a 2xx
// answer into out; any other answer is a *serverError.
func (a *apiClient) call(ctx context.Context, method, path, token string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "onramp-client/1")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach %s: %w", a.base, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("reading the answer of %s: %w", a.base, err)
	}
	if res.StatusCode/100 != 2 {
		se := &serverError{Status: res.StatusCode, RetryAfter: res.Header.Get("Retry-After")}
		if json.Unmarshal(raw, se) != nil || se.Code == "" {
			se.Code = "unexpected_answer"
			se.Message = fmt.Sprintf("%s answered %d %s: is this an Onramp server?", a.base, res.StatusCode, http.StatusText(res.StatusCode))
		}
		return se
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s did not answer with JSON: is this an Onramp server?", a.base)
	}
	return nil
}

// UnmarshalJSON reads the API's error body into a serverError.
func (e *serverError) UnmarshalJSON(b []byte) error {
	var v struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	e.Code, e.Message = v.Error, v.Message
	return nil
}

// refused gives an answer of the server the "refused" exit code, and anything else (network,
// a server that is not Onramp) the ordinary one.
func refused(what string, err error) error {
	var se *serverError
	if errors.As(err, &se) && se.Code != "unexpected_answer" {
		return &exitError{code: exitRefused, err: fmt.Errorf("client: %s: %w", what, err)}
	}
	return fmt.Errorf("client: %w", err)
}

// prompter reads the password and the authenticator code: from the terminal without echo when
// stdin is one, else line by line from stdin (scripts pipe them). Never from flags for the
// password: flags show in ps and shell history.
type prompter struct {
	tty    *os.File
	lines  *bufio.Reader
	stderr io.Writer
}

func newPrompter(stdin io.Reader, stderr io.Writer) *prompter {
	p := &prompter{stderr: stderr}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = f
	} else if stdin != nil {
		p.lines = bufio.NewReader(stdin)
	}
	return p
}

func (p *prompter) secret(prompt string) (string, error) {
	if p.tty != nil {
		fmt.Fprint(p.stderr, prompt)
		b, err := term.ReadPassword(int(p.tty.Fd()))
		fmt.Fprintln(p.stderr)
		return string(b), err
	}
	return p.read()
}

func (p *prompter) line(prompt string) (string, error) {
	if p.tty != nil {
		fmt.Fprint(p.stderr, prompt)
		s, err := bufio.NewReader(p.tty).ReadString('\n')
		return strings.TrimSpace(s), err
	}
	return p.read()
}

func (p *prompter) read() (string, error) {
	if p.lines == nil {
		return "", io.EOF
	}
	s, err := p.lines.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(s, "\r\n"), nil // a password may end in spaces
}
