package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// config is read from the environment (the README lists the variables; docs/operations.md says more).
type config struct {
	Env         string // "development" (default) or "production"
	Addr        string
	DatabaseURL string
	DataDir     string
	Secret      []byte
	BaseURL     string
	SessionIdle time.Duration
	SessionMax  time.Duration
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
	// MetricsToken serves /metrics on the main listener to requests that carry it as a
	// bearer token; MetricsAddr serves it on a listener of its own (docs/metrics.md).
	MetricsToken string
	MetricsAddr  string
	secretSource string
}

func (c config) dev() bool { return c.Env == "development" }

// secure reports whether the console is served over HTTPS (cookies Secure, HSTS).
func (c config) secure() bool { return strings.HasPrefix(c.BaseURL, "https://") }

func (c config) sqlitePath() string { return filepath.Join(c.DataDir, "onramp.db") }

// database is describeDatabase of the configured database, with the SQLite file's full path.
func (c config) database() string {
	path, err := filepath.Abs(c.sqlitePath())
	if err != nil {
		path = c.sqlitePath()
	}
	return describeDatabase(c.DatabaseURL, path)
}

func loadConfig(getenv func(string) string) (config, error) {
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
		return c, fmt.Errorf("ONRAMP_ENV must be development or production, not %q", c.Env)
	}
	var err error
	if c.Debug, err = boolean(getenv, "ONRAMP_DEBUG"); err != nil {
		return c, err
	}
	if c.SessionIdle, err = duration(getenv, "ONRAMP_SESSION_IDLE", 30*time.Minute); err != nil {
		return c, err
	}
	if c.SessionMax, err = duration(getenv, "ONRAMP_SESSION_MAX", 12*time.Hour); err != nil {
		return c, err
	}
	if c.PortalIdle, err = duration(getenv, "ONRAMP_PORTAL_SESSION_IDLE", 30*time.Minute); err != nil {
		return c, err
	}
	if c.PortalMax, err = duration(getenv, "ONRAMP_PORTAL_SESSION_MAX", 12*time.Hour); err != nil {
		return c, err
	}
	if c.ActivationTTL, err = duration(getenv, "ONRAMP_ACTIVATION_TTL", 24*time.Hour); err != nil {
		return c, err
	}
	if c.ClientDownloadURL, err = webURL(getenv, "ONRAMP_CLIENT_DOWNLOAD_URL"); err != nil {
		return c, err
	}
	if c.MetricsToken = getenv("ONRAMP_METRICS_TOKEN"); c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		return c, errors.New("ONRAMP_METRICS_TOKEN must be at least 16 characters (try: openssl rand -hex 32)")
	}
	if c.BaseURL == "" {
		host, port, err := net.SplitHostPort(c.Addr)
		if err != nil {
			return c, fmt.Errorf("ONRAMP_ADDR %q: %w", c.Addr, err)
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		c.BaseURL = "http://" + net.JoinHostPort(host, port)
	}
	if s := getenv("ONRAMP_SECRET"); s != "" {
		if len(s) < 32 {
			return c, errors.New("ONRAMP_SECRET must be at least 32 characters (try: openssl rand -hex 32)")
		}
		c.Secret, c.secretSource = []byte(s), "ONRAMP_SECRET"
		return c, nil
	}
	if !c.dev() {
		return c, errors.New("ONRAMP_SECRET is required when ONRAMP_ENV=production (try: openssl rand -hex 32)")
	}
	c.Secret, err = devSecret(filepath.Join(c.DataDir, "secret.key"))
	c.secretSource = "development key file"
	return c, err
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
