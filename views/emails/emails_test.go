package emails_test

import (
	"strings"
	"testing"
	"time"

	"onramp/models/mail"
	"onramp/views/emails"
)

func TestInvitationHasEverythingTheUserNeeds(t *testing.T) {
	t.Parallel()
	r := emails.NewRenderer("https://vpn.example.com/")
	link := "https://vpn.example.com/myvpn/activate/tok_A-1?x=1&y=2"
	got, err := r.Invitation(t.Context(), mail.Invitation{AccountName: "acme", To: "ann@example.com", FirstName: "Ann <&>",
		ActivationURL: link, ExpiresAt: time.Date(2026, 3, 4, 15, 30, 0, 0, time.FixedZone("CET", 3600))})
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "Activate your acme VPN account" {
		t.Errorf("subject %q", got.Subject)
	}
	for _, want := range []string{"Hello Ann <&>,\n", "acme", "ann@example.com", "\n   " + link + "\n",
		"Wednesday 4 March 2026 at 14:30 UTC", "Install the VPN client", "https://vpn.example.com/myvpn/login"} {
		if !strings.Contains(got.Text, want) {
			t.Errorf("text part lacks %q:\n%s", want, got.Text)
		}
	}
	for _, want := range []string{"<!doctype html>", "Hello Ann &lt;&amp;&gt;,", "<strong>acme</strong>", "ann@example.com",
		`href="https://vpn.example.com/myvpn/activate/tok_A-1?x=1&amp;y=2"`, "Wednesday 4 March 2026 at 14:30 UTC",
		"Install the VPN client"} {
		if !strings.Contains(got.HTML, want) {
			t.Errorf("HTML part lacks %q:\n%s", want, got.HTML)
		}
	}
	if strings.Contains(got.HTML, "Ann <&>") {
		t.Error("the HTML part does not escape the name")
	}
}

func TestInvitationRefusesUnsafeLinks(t *testing.T) {
	t.Parallel()
	got, err := emails.NewRenderer("https://vpn.example.com").Invitation(t.Context(),
		mail.Invitation{AccountName: "acme", To: "ann@example.com", ActivationURL: "javascript:alert(1)"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got.HTML, `href="javascript:`) {
		t.Fatal("a javascript: link in the HTML part")
	}
	if !strings.HasPrefix(got.Text, "Hello,\n") {
		t.Errorf("greeting without a first name: %q", got.Text[:20])
	}
}

func TestDisabledNotice(t *testing.T) {
	t.Parallel()
	got, err := emails.NewRenderer("https://vpn.example.com").DisabledNotice(t.Context(),
		mail.DisabledNotice{AccountName: "acme", To: "bob@example.com", FirstName: "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "Your acme VPN access is disabled" || !strings.Contains(got.Text, "Hello Bob,\n") ||
		!strings.Contains(got.Text, "bob@example.com") || !strings.Contains(got.HTML, "<strong>acme</strong>") {
		t.Fatalf("%+v", got)
	}
}
