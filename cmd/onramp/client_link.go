package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"onramp/models/codes"
)

// enrollment is what an enrollment link carries:
// onramp://enroll?server=<base URL>&account=<account>&code=<code> (docs/client-api.md).
type enrollment struct {
	server, account, code string
}

// errNotEnrollLink starts every refusal of a link. The link itself is never repeated: it holds
// the code.
var errNotEnrollLink = errors.New("client register: the argument is not an enrollment link (onramp://enroll?server=<URL>&account=<account>&code=<code>)")

// parseEnrollLink reads an enrollment link: each of server, account and code exactly once, the
// server an http(s) URL.
func parseEnrollLink(link string) (enrollment, error) {
	bad := func(why string) error { return fmt.Errorf("%w: %s", errNotEnrollLink, why) }
	u, err := url.Parse(strings.TrimSpace(link))
	if err != nil {
		return enrollment{}, bad("it does not read as a URL")
	}
	if u.Scheme != "onramp" || u.Host != "enroll" || u.Opaque != "" || (u.Path != "" && u.Path != "/") {
		return enrollment{}, bad("it must start with onramp://enroll?")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return enrollment{}, bad("its query does not read")
	}
	var e enrollment
	for _, p := range []struct {
		name string
		dst  *string
	}{{"server", &e.server}, {"account", &e.account}, {"code", &e.code}} {
		vs := q[p.name]
		switch {
		case len(vs) > 1:
			return enrollment{}, bad("it has more than one " + p.name)
		case len(vs) == 0 || strings.TrimSpace(vs[0]) == "":
			return enrollment{}, bad("it has no " + p.name)
		}
		*p.dst = strings.TrimSpace(vs[0])
	}
	if s, err := url.Parse(e.server); err != nil || (s.Scheme != "http" && s.Scheme != "https") || s.Host == "" {
		return enrollment{}, bad("its server is not an http:// or https:// URL")
	}
	return e, nil
}

// merge fills the server and code flags from the link; a flag that says otherwise than the
// link is an error (which one was meant cannot be guessed).
func (e enrollment) merge(server, code *string) error {
	if *server != "" && !sameServer(*server, e.server) {
		return fmt.Errorf("client register: --server %s and the enrollment link's server %s disagree: give one of them", *server, e.server)
	}
	if *code != "" && !sameCode(*code, e.code) {
		return errors.New("client register: --code and the enrollment link's code disagree: give one of them")
	}
	*server, *code = e.server, e.code
	return nil
}

// sameServer compares base URLs as the client uses them: scheme and host in any case, no
// trailing slash.
func sameServer(a, b string) bool {
	ua, errA := url.Parse(strings.TrimRight(strings.TrimSpace(a), "/"))
	ub, errB := url.Parse(strings.TrimRight(strings.TrimSpace(b), "/"))
	if errA != nil || errB != nil {
		return false
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host) && ua.Path == ub.Path
}

// sameCode compares codes as the server reads them (case, spaces and hyphens ignored).
func sameCode(a, b string) bool {
	na, errA := codes.Normalize(a)
	nb, errB := codes.Normalize(b)
	if errA != nil || errB != nil {
		return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
	}
	return na == nb
}
