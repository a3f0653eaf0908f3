package handlers_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"onramp/models"
)

func TestLongNonASCIIUserAgentIsCutOnACharacter(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.activeSDPUser("acme", "grace@example.com")
	ua := "Mozilla/5.0 " + strings.Repeat("é", 300) // 255 bytes end inside an é

	console := a.client()
	console.header.Set("User-Agent", ua)
	console.signIn("boss@example.com")
	portal := a.client()
	portal.header.Set("User-Agent", ua)
	portal.portalSignIn("acme", "grace@example.com", testPassword, "")

	for _, table := range []string{"admin_sessions", "portal_sessions"} {
		var stored string
		if err := a.store.SQLDB().QueryRow("SELECT user_agent FROM " + table).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if !utf8.ValidString(stored) || len(stored) > 255 || len(stored) < 250 || !strings.HasPrefix(ua, stored) {
			t.Fatalf("%s keeps %d bytes %q, want the longest whole-character prefix of at most 255 bytes", table, len(stored), stored)
		}
	}
}
