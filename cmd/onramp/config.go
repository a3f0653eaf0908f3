package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"onramp/models/mail"
)

// config is read from the environment (the README lists the variables; docs/operations.md says more).
type config struct {
	Env         string // "development" (default) or "production"
	Addr        string
	DatabaseURL string
	DataDir     string
	Secret      []byte
	// SecretPrevious is the secret being rotated out (ONRAMP_SECRET_PREVIOUS): what it sealed
	// still opens until `onramp secret reseal` has rewritten it.
	SecretPrevious []byte
	BaseURL        string
	SessionIdle    time.Duration
	SessionMax     time.Duration
	// PortalIdle and PortalMax are the MyVPN portal's session timeouts.
	PortalIdle time.Duration
	PortalMax  time.Duration
	// ActivationTTL is how long an invitation's activation link works.
	ActivationTTL time.Duration
	TrustProxy    bool
	// Debug shows the error behind a 500 on its page: off in every environment unless
	// ONRAMP_DEBUG says so, since it can show anyone the database's words.
	Debug    bool
	SMTPURL  string
	MailFrom string
	// ClientDownloadURL is where users download the VPN client: linked from invitations and
	// MyVPN when set.
	ClientDownloadURL string
	// DrainDelay is how long /readyz answers 503 at shutdown before the listener closes, for
	// load balancers to stop sending requests.
	DrainDelay time.Duration
	// LogLevel is the least level logged (ONRAMP_LOG_LEVEL): INFO by default; DEBUG adds the
	// health probes' requests.
	LogLevel slog.Level
	// MetricsToken serves /metrics on the main listener to requests that carry it as a
	// bearer token; MetricsAddr serves it on a listener of its own (docs/metrics.md).
	MetricsToken string
	MetricsAddr  string
	secretSource string
}

func (c config) dev() bool { return c.Env == "development" }

// secure reports whether the console is served over HTTPS (cookies Secure, HSTS).
func (c config) secure() bool { return strings.HasPrefix(c.BaseURL, "https://") }

func (c config) postgres() bool {
	return strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://")
}

func (c config) sqlitePath() string { return filepath.Join(c.DataDir, "onramp.db") }

// database is describeDatabase of the configured database, with the SQLite file's full path.
func (c config) database() string {
	path, err := filepath.Abs(c.sqlitePath())
	if err != nil {
		path = c.sqlitePath()
	}
	return describeDatabase(c.DatabaseURL, path)
}

// loadConfig reads the configuration once, at start, and lists every problem it finds (not
// only the first), so that an operator fixes them in one go. Every variable may instead be
// given in a file, NAME_FILE (fromFiles): Docker and Kubernetes secrets.
func loadConfig(environ func(string) string) (config, error) {
	var p problems
	getenv := fromFiles(environ, &p)
	c := config{
		Env:         orDefault(getenv("ONRAMP_ENV"), "development"),
		Addr:        orDefault(getenv("ONRAMP_ADDR"), "localhost:8080"),
		DatabaseURL: getenv("DATABASE_URL"),
		DataDir:     orDefault(getenv("ONRAMP_DATA_DIR"), "data"),
		BaseURL:     strings.TrimRight(getenv("ONRAMP_BASE_URL"), "/"),
		TrustProxy:  getenv("ONRAMP_TRUST_PROXY") == "1" || getenv("ONRAMP_TRUST_PROXY") == "true",
		SMTPURL:     getenv("SMTP_URL"),
		MailFrom:    getenv("MAIL_FROM"),
		MetricsAddr: getenv("ONRAMP_METRICS_ADDR"),
	}
	if c.Env != "development" && c.Env != "production" {
		p.add(fmt.Errorf("ONRAMP_ENV must be development or production, not %q", c.Env))
	}
	c.Debug = p.flag(boolean(getenv, "ONRAMP_DEBUG"))
	c.SessionIdle = p.duration(duration(getenv, "ONRAMP_SESSION_IDLE", 30*time.Minute))
	c.SessionMax = p.duration(duration(getenv, "ONRAMP_SESSION_MAX", 12*time.Hour))
	c.PortalIdle = p.duration(duration(getenv, "ONRAMP_PORTAL_SESSION_IDLE", 30*time.Minute))
	c.PortalMax = p.duration(duration(getenv, "ONRAMP_PORTAL_SESSION_MAX", 12*time.Hour))
	c.ActivationTTL = p.duration(duration(getenv, "ONRAMP_ACTIVATION_TTL", 24*time.Hour))
	c.ClientDownloadURL = p.text(webURL(getenv, "ONRAMP_CLIENT_DOWNLOAD_URL"))
	if c.MetricsToken = getenv("ONRAMP_METRICS_TOKEN"); c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		p.add(errors.New("ONRAMP_METRICS_TOKEN must be at least 16 characters (try: openssl rand -hex 32)"))
	}
	// A load balancer needs a moment to see /readyz fail before the listener closes; a
	// developer's Ctrl-C does not.
	drainDefault := 5 * time.Second
	if c.dev() {
		drainDefault = 0
	}
	c.DrainDelay = p.duration(wait(getenv, "ONRAMP_DRAIN_DELAY", drainDefault))
	if v := getenv("ONRAMP_LOG_LEVEL"); v != "" && c.LogLevel.UnmarshalText([]byte(v)) != nil {
		p.add(fmt.Errorf("ONRAMP_LOG_LEVEL: %q is not debug, info, warn or error", v))
	}
	if !c.postgres() && !strings.HasPrefix(c.DatabaseURL, "sqlite:") && !strings.HasPrefix(c.DatabaseURL, "file:") && c.DatabaseURL != "" {
		p.add(errors.New("DATABASE_URL must start with postgres:// (or be unset for the embedded SQLite file)"))
	}
	if c.SMTPURL != "" {
		_, err := mail.ParseSMTPURL(c.SMTPURL)
		p.add(err)
		if c.MailFrom == "" {
			p.add(errors.New("MAIL_FROM is required with SMTP_URL (for example MAIL_FROM='Onramp <vpn@example.com>')"))
		}
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		p.add(fmt.Errorf("ONRAMP_ADDR %q: %w", c.Addr, err))
	}
	switch {
	case c.BaseURL != "":
		_, err := webURL(func(string) string { return c.BaseURL }, "ONRAMP_BASE_URL")
		p.add(err)
	case c.Env == "production":
		// Links in emails would otherwise point at localhost.
		p.add(errors.New("ONRAMP_BASE_URL is required when ONRAMP_ENV=production: the public URL of the console, as in the links of emails (https://vpn.example.com)"))
	case err == nil:
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		c.BaseURL = "http://" + net.JoinHostPort(host, port)
	}
	switch s := getenv("ONRAMP_SECRET"); {
	case s != "" && len(s) < 32:
		p.add(errors.New("ONRAMP_SECRET must be at least 32 characters (try: openssl rand -hex 32)"))
	case s != "":
		c.Secret, c.secretSource = []byte(s), "ONRAMP_SECRET"
	case c.Env == "production":
		p.add(errors.New("ONRAMP_SECRET is required when ONRAMP_ENV=production (try: openssl rand -hex 32)"))
	case len(p) == 0: // the key file is made only for a configuration that starts
		secret, err := devSecret(filepath.Join(c.DataDir, "secret.key"))
		p.add(err)
		c.Secret = secret
		c.secretSource = "development key file"
	}
	switch s := getenv("ONRAMP_SECRET_PREVIOUS"); {
	case s != "" && len(s) < 32:
		p.add(errors.New("ONRAMP_SECRET_PREVIOUS must be at least 32 characters: the previous ONRAMP_SECRET"))
	case s != "":
		c.SecretPrevious = []byte(s)
	}
	return c, p.err()
}

// problems collects what is wrong with the configuration.
type problems []error

// The readers below return a value and an error: these record the error, when there is one,
// and pass the value on (the zero value then).

func (p *problems) flag(v bool, err error) bool {
	p.add(err)
	return v
}

func (p *problems) duration(v time.Duration, err error) time.Duration {
	p.add(err)
	return v
}

func (p *problems) text(v string, err error) string {
	p.add(err)
	return v
}

// add records err, when there is one.
func (p *problems) add(err error) {
	if err != nil {
		*p = append(*p, err)
	}
}

// err is nil, the one problem, or all of them, one per line.
func (p problems) err() error {
	switch len(p) {
	case 0:
		return nil
	case 1:
		return p[0]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems with the configuration:", len(p))
	for _, e := range p {
		b.WriteString("\n  - " + e.Error())
	}
	return errors.New(b.String())
}

// fromFiles reads NAME from the file that NAME_FILE names when that is set (a Docker or
// Kubernetes secret mounted as a file), without its trailing newline. Setting both, or a file
// that cannot be read or is empty, is a problem. Each file is read once.
func fromFiles(getenv func(string) string, p *problems) func(string) string {
	read := map[string]string{}
	return func(key string) string {
		if v, ok := read[key]; ok {
			return v
		}
		v, path := getenv(key), getenv(key+"_FILE")
		switch {
		case path == "":
		case v != "":
			p.add(fmt.Errorf("%s and %s_FILE are both set: keep one", key, key))
		default:
			b, err := os.ReadFile(path)
			v = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
			if err != nil {
				p.add(fmt.Errorf("%s_FILE: %w", key, err))
			} else if v == "" {
				p.add(fmt.Errorf("%s_FILE: %s is empty", key, path))
			}
		}
		read[key] = v
		return v
	}
}

// devSecret reads the development key, creating it (mode 0600) on first use.
func devSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if s := strings.TrimSpace(string(b)); len(s) >= 32 {
			return []byte(s), nil
		}
		return nil, fmt.Errorf("%s is too short: delete it to generate a new one", path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	s := hex.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		_ = f.Close()
		return nil, err
	}
	return []byte(s), f.Close()
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// boolean reads a switch: unset is off; anything strconv.ParseBool does not read is refused.
func boolean(getenv func(string) string, key string) (bool, error) {
	v := getenv(key)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s: %q is not true or false", key, v)
	}
	return b, nil
}

// webURL reads an optional absolute http(s) URL, refused at start rather than mailed broken.
func webURL(getenv func(string) string, key string) (string, error) {
	v := strings.TrimSpace(getenv(key))
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%s: %q is not an http:// or https:// URL", key, v)
	}
	return v, nil
}

// wait reads a duration that may be 0.
func wait(getenv func(string) string, key string, d time.Duration) (time.Duration, error) {
	v := getenv(key)
	if v == "" {
		return d, nil
	}
	x, err := time.ParseDuration(v)
	if err != nil || x < 0 {
		return 0, fmt.Errorf("%s: %q is not a duration like 0s, 5s or 1m", key, v)
	}
	return x, nil
}

func duration(getenv func(string) string, key string, d time.Duration) (time.Duration, error) {
	v := getenv(key)
	if v == "" {
		return d, nil
	}
	x, err := time.ParseDuration(v)
	if err != nil || x <= 0 {
		return 0, fmt.Errorf("%s: %q is not a positive duration like 30m or 12h", key, v)
	}
	return x, nil
}

// describeDatabase says where the data is for people reading the output: the SQLite file, or
// the PostgreSQL database, host and user, never the password.
func describeDatabase(databaseURL, sqlitePath string) string {
	if rest, ok := strings.CutPrefix(databaseURL, "sqlite:"); ok {
		return "SQLite file " + rest
	}
	if rest, ok := strings.CutPrefix(databaseURL, "file:"); ok {
		return "SQLite file " + rest
	}
	if databaseURL == "" {
		return "SQLite file " + sqlitePath
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "PostgreSQL (an unreadable DATABASE_URL)"
	}
	s := "PostgreSQL database " + strings.TrimPrefix(u.Path, "/") + " on " + u.Host
	if name := u.User.Username(); name != "" {
		s += " as " + name
	}
	if schema := u.Query().Get("search_path"); schema != "" {
		s += " (schema " + schema + ")"
	}
	return s
}
