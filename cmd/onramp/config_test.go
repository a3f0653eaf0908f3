package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestClientDownloadURL(t *testing.T) {
	t.Parallel()
	env := func(v string) func(string) string {
		m := map[string]string{"ONRAMP_SECRET": strings.Repeat("s", 32), "ONRAMP_CLIENT_DOWNLOAD_URL": v}
		return func(k string) string { return m[k] }
	}
	for v, want := range map[string]string{
		"":                                     "",
		"https://downloads.example.com/client": "https://downloads.example.com/client",
		" http://intranet.example/vpn?os=any ": "http://intranet.example/vpn?os=any",
	} {
		c, err := loadConfig(env(v))
		if err != nil || c.ClientDownloadURL != want {
			t.Errorf("%q: %q %v, want %q", v, c.ClientDownloadURL, err, want)
		}
	}
	for _, bad := range []string{"downloads.example.com/client", "ftp://example.com/client", "javascript:alert(1)", "https://", "http://[::1"} {
		if _, err := loadConfig(env(bad)); err == nil || !strings.Contains(err.Error(), "ONRAMP_CLIENT_DOWNLOAD_URL") {
			t.Errorf("%q accepted (%v)", bad, err)
		}
	}
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestConfigListsEveryProblem: one start names every problem of the configuration, not the
// first only.
func TestConfigListsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := loadConfig(envOf(map[string]string{
		"ONRAMP_ENV":          "production",
		"ONRAMP_SESSION_IDLE": "soon",
		"ONRAMP_DEBUG":        "sometimes",
		"ONRAMP_DRAIN_DELAY":  "-1s",
		"DATABASE_URL":        "mysql://db/onramp",
		"SMTP_URL":            "smtp://mail.example.com",
	}))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"7 problems", "ONRAMP_SESSION_IDLE", "ONRAMP_DEBUG", "ONRAMP_DRAIN_DELAY", "DATABASE_URL",
		"MAIL_FROM is required", "ONRAMP_BASE_URL is required", "ONRAMP_SECRET is required"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no %q in:\n%v", want, err)
		}
	}
	if strings.Count(err.Error(), "\n  - ") != 7 {
		t.Errorf("not one problem per line:\n%v", err)
	}
}

// TestProductionNeedsBaseURL: emails would otherwise link to localhost.
func TestProductionNeedsBaseURL(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ONRAMP_ENV": "production", "ONRAMP_SECRET": strings.Repeat("s", 32)}
	if _, err := loadConfig(envOf(env)); err == nil || !strings.Contains(err.Error(), "ONRAMP_BASE_URL is required") {
		t.Fatalf("production without ONRAMP_BASE_URL: %v", err)
	}
	env["ONRAMP_BASE_URL"] = "vpn.example.com"
	if _, err := loadConfig(envOf(env)); err == nil || !strings.Contains(err.Error(), "ONRAMP_BASE_URL") {
		t.Fatalf("a base URL without a scheme: %v", err)
	}
	env["ONRAMP_BASE_URL"] = "https://vpn.example.com/"
	c, err := loadConfig(envOf(env))
	if err != nil || c.BaseURL != "https://vpn.example.com" || c.DrainDelay != 5*time.Second {
		t.Fatalf("%q, drain %s, %v", c.BaseURL, c.DrainDelay, err)
	}
	env["ONRAMP_DRAIN_DELAY"] = "0s"
	if c, err := loadConfig(envOf(env)); err != nil || c.DrainDelay != 0 {
		t.Fatalf("ONRAMP_DRAIN_DELAY=0s: %s %v", c.DrainDelay, err)
	}
	// Development needs none of it, and does not wait at shutdown.
	c, err = loadConfig(envOf(map[string]string{"ONRAMP_DATA_DIR": t.TempDir()}))
	if err != nil || c.BaseURL != "http://localhost:8080" || c.DrainDelay != 0 {
		t.Fatalf("development: %q, drain %s, %v", c.BaseURL, c.DrainDelay, err)
	}
}

// TestSecretsFromFiles: NAME_FILE names a file holding NAME (a Docker or Kubernetes secret);
// its trailing newline is not part of the value.
func TestSecretsFromFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	secret := strings.Repeat("k", 40)
	env := map[string]string{
		"ONRAMP_ENV":           "production",
		"ONRAMP_BASE_URL":      "https://vpn.example.com",
		"ONRAMP_SECRET_FILE":   write("secret", secret+"\n"),
		"DATABASE_URL_FILE":    write("db", "postgres://onramp:pw@db:5432/onramp\r\n"),
		"SMTP_URL_FILE":        write("smtp", "smtps://u:pw@mail.example.com"),
		"MAIL_FROM":            "Onramp <vpn@example.com>",
		"ONRAMP_DATA_DIR_FILE": write("unused", "x"),
		"ONRAMP_DATA_DIR":      "",
	}
	c, err := loadConfig(envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Secret) != secret || c.DatabaseURL != "postgres://onramp:pw@db:5432/onramp" || c.SMTPURL != "smtps://u:pw@mail.example.com" {
		t.Fatalf("read %q %q %q", c.Secret, c.DatabaseURL, c.SMTPURL)
	}
	// Both set, a missing file and an empty one are each a problem, all listed at once.
	env["ONRAMP_SECRET"] = secret
	env["DATABASE_URL_FILE"] = filepath.Join(dir, "missing")
	env["SMTP_URL_FILE"] = write("empty", "\n")
	_, err = loadConfig(envOf(env))
	for _, want := range []string{"ONRAMP_SECRET and ONRAMP_SECRET_FILE are both set", "DATABASE_URL_FILE: open", "SMTP_URL_FILE: " + filepath.Join(dir, "empty") + " is empty"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("no %q in %v", want, err)
		}
	}
	if err != nil && strings.Contains(err.Error(), secret) {
		t.Errorf("the secret is in the error: %v", err)
	}
}

// ONRAMP_SECRET_PREVIOUS is optional; when set it is a real secret's length.
func TestSecretPrevious(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ONRAMP_SECRET": strings.Repeat("n", 32)}
	if c, err := loadConfig(envOf(env)); err != nil || c.SecretPrevious != nil {
		t.Fatalf("unset: %q %v", c.SecretPrevious, err)
	}
	env["ONRAMP_SECRET_PREVIOUS"] = "short"
	if _, err := loadConfig(envOf(env)); err == nil || !strings.Contains(err.Error(), "ONRAMP_SECRET_PREVIOUS must be at least 32 characters") {
		t.Fatalf("a short previous secret: %v", err)
	}
	env["ONRAMP_SECRET_PREVIOUS"] = strings.Repeat("o", 32)
	if c, err := loadConfig(envOf(env)); err != nil || string(c.SecretPrevious) != strings.Repeat("o", 32) {
		t.Fatalf("set: %q %v", c.SecretPrevious, err)
	}
}
