package main

import (
	"strings"
	"testing"
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
