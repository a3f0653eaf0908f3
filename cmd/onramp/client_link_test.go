package main

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// enrollLink is the enrollment link an admin hands out with a code.
func enrollLink(server, account, code string) string {
	return "onramp://enroll?" + url.Values{"server": {server}, "account": {account}, "code": {code}}.Encode()
}

// TestClientRegisterWithEnrollmentLink: `onramp client register <link>` takes the server and
// the code from the link, flags may repeat them but not contradict them, and a link that is not
// an enrollment link is refused before anything is sent.
func TestClientRegisterWithEnrollmentLink(t *testing.T) {
	t.Parallel()
	cs := newClientServer(t)
	u := cs.user("grace@example.com", "")
	path := filepath.Join(t.TempDir(), "client.json")

	// The link alone, flags after it.
	code := cs.code(u)
	out, _, err := clientRun(path, "", "register", enrollLink(cs.url, "acme", code), "--device-name", "Grace's laptop")
	if err != nil {
		t.Fatalf("register with the link: %v\n%s", err, out)
	}
	if cfg := readClientConfig(t, path); cfg.Server != cs.url || cfg.Account != "acme" || cfg.DeviceID == 0 {
		t.Fatalf("client.json: %+v", cfg)
	}

	// Flags that say the same as the link (the code typed another way, the server with a
	// trailing slash) are fine.
	code = cs.code(u)
	typed := strings.ToLower(strings.ReplaceAll(code, "-", ""))
	if out, _, err := clientRun(path, "", "register", "--server", cs.url+"/", "--code", typed, enrollLink(cs.url, "acme", code)); err != nil {
		t.Fatalf("register with the link and the same flags: %v\n%s", err, out)
	}

	// Flags that contradict the link: refused before anything is sent, the code stays unused.
	code = cs.code(u)
	for name, args := range map[string][]string{
		"another server": {"register", "--server", "http://127.0.0.1:1", enrollLink(cs.url, "acme", code)},
		"another code":   {"register", "--code", "ABCD-EFGH-JKMN-PQRS", enrollLink(cs.url, "acme", code)},
	} {
		_, _, err := clientRun(path, "", args...)
		if exitCode(err) != 1 || !strings.Contains(err.Error(), "enrollment link") || !strings.Contains(err.Error(), "--") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if out, _, err := clientRun(path, "", "register", enrollLink(cs.url, "acme", code)); err != nil {
		t.Fatalf("the code was used by a refused command: %v\n%s", err, out)
	}

	// Links that are not enrollment links: a clear error, nothing sent.
	for name, link := range map[string]string{
		"no server":        "onramp://enroll?account=acme&code=" + code,
		"no code":          "onramp://enroll?account=acme&server=" + url.QueryEscape(cs.url),
		"no account":       "onramp://enroll?server=" + url.QueryEscape(cs.url) + "&code=" + code,
		"another scheme":   "https://vpn.example.com/enroll?server=" + url.QueryEscape(cs.url) + "&account=acme&code=" + code,
		"another action":   "onramp://login?server=" + url.QueryEscape(cs.url) + "&account=acme&code=" + code,
		"server not a URL": "onramp://enroll?server=vpn.example.com&account=acme&code=" + code,
		"not a URL":        "onramp://enroll?server=%zz&code=" + code,
		"two servers":      enrollLink(cs.url, "acme", code) + "&server=http://127.0.0.1:1",
	} {
		_, _, err := clientRun(path, "", "register", link)
		if exitCode(err) != 1 || !strings.Contains(err.Error(), "enrollment link") {
			t.Errorf("%s: %v", name, err)
		}
	}
	_, _, err = clientRun(path, "", "register", enrollLink(cs.url, "acme", code), enrollLink(cs.url, "acme", code))
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "one enrollment link") {
		t.Errorf("two links: %v", err)
	}
}
