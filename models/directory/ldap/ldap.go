// Package ldap reads users and groups from an LDAP directory (OpenLDAP or Active Directory) for a
// directory sync. It knows nothing of HTTP or the store: it returns plain DirectoryUser values.
package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// Errors a sync reports as its reason: callers test them with errors.Is.
var (
	ErrUnreachable    = errors.New("the LDAP server cannot be reached")
	ErrBadCredentials = errors.New("the LDAP server refused the bind DN or password")
	ErrConfig         = errors.New("the LDAP connection settings are invalid")
	ErrTLS            = errors.New("the LDAP server's certificate is not trusted")
)

// DefaultPageSize stays under Active Directory's MaxPageSize (1,000), which a larger page would hit.
const DefaultPageSize = 500

// Config is one LDAP connection as an admin enters it.
type Config struct {
	URL        string // ldap://host[:port] or ldaps://host[:port]
	StartTLS   bool
	CAPEM      []byte // trusted CA certificates; empty means the system pool
	SkipVerify bool
	BindDN     string
	Password   string
	BaseDN     string
	UserFilter string // without the group condition, e.g. (objectClass=inetOrgPerson)
	GroupDN    string // when set, only members of this group (nested groups included)
	Mapping    Mapping
	PageSize   uint32        // 0 means DefaultPageSize
	RangeSize  int           // member values asked per range request; 0 asks for plain member first
	Timeout    time.Duration // dial and per-request timeout; 0 means 15 s
}

// DirectoryUser is a user as the directory describes it, keyed by its stable ID (never the DN).
type DirectoryUser struct {
	ID        string
	DN        string
	Email     string
	FirstName string
	LastName  string
	Phone     string
	Disabled  bool
}

// Client is one bound connection. It is not safe for concurrent use.
type Client struct {
	conn *goldap.Conn
	cfg  Config
}

// Dial connects (with TLS as configured) and binds. The error wraps ErrUnreachable, ErrBadCredentials
// or ErrConfig so that a sync can say why it stopped.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = DefaultPageSize
	}
	verify, err := newVerifier(cfg)
	if err != nil {
		return nil, err
	}
	tlsConfig := verify.config()
	dialer := &net.Dialer{Timeout: cfg.Timeout}
	if deadline, ok := ctx.Deadline(); ok {
		dialer.Deadline = deadline
	}
	conn, err := goldap.DialURL(cfg.URL, goldap.DialWithDialer(dialer), goldap.DialWithTLSConfig(tlsConfig))
	if err != nil {
		return nil, verify.explain(fmt.Errorf("%w: %s: %v", ErrUnreachable, cfg.URL, err))
	}
	conn.SetTimeout(cfg.Timeout)
	if cfg.StartTLS {
		if err := conn.StartTLS(tlsConfig); err != nil {
			_ = conn.Close()
			return nil, verify.explain(fmt.Errorf("%w: StartTLS: %v", ErrUnreachable, err))
		}
	}
	if err := conn.Bind(cfg.BindDN, cfg.Password); err != nil {
		_ = conn.Close()
		if goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidCredentials) {
			return nil, fmt.Errorf("%w (bind DN %q)", ErrBadCredentials, cfg.BindDN)
		}
		if goldap.IsErrorWithCode(err, goldap.ErrorNetwork) {
			return nil, fmt.Errorf("%w: %s: %v", ErrUnreachable, cfg.URL, err)
		}
		return nil, fmt.Errorf("ldap bind: %w", err)
	}
	return &Client{conn: conn, cfg: cfg}, nil
}

// verifier checks the server's certificate itself, because go-ldap's StartTLS reports a failed
// handshake as text only: keeping the verification error lets Dial say "not trusted" (ErrTLS)
// rather than "unreachable".
type verifier struct {
	serverName string
	roots      *x509.CertPool // nil: the system pool
	skip       bool
	failed     error
}

func newVerifier(cfg Config) (*verifier, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: the URL must look like ldap://host or ldaps://host", ErrConfig)
	}
	v := &verifier{serverName: u.Hostname(), skip: cfg.SkipVerify}
	if len(cfg.CAPEM) > 0 {
		v.roots = x509.NewCertPool()
		if !v.roots.AppendCertsFromPEM(cfg.CAPEM) {
			return nil, fmt.Errorf("%w: the CA certificate is not PEM", ErrConfig)
		}
	}
	return v, nil
}

func (v *verifier) config() *tls.Config {
	return &tls.Config{
		ServerName: v.serverName,
		MinVersion: tls.VersionTLS12,
		// Go's own check is replaced by VerifyConnection below, which does the same check and keeps
		// its error; it is skipped only when the admin chose "skip verification".
		InsecureSkipVerify: true, //nolint:gosec
		VerifyConnection:   v.verifyConnection,
	}
}

func (v *verifier) verifyConnection(cs tls.ConnectionState) error {
	if v.skip {
		return nil
	}
	if len(cs.PeerCertificates) == 0 {
		v.failed = errors.New("the server sent no certificate")
		return v.failed
	}
	intermediates := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		intermediates.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{DNSName: v.serverName, Roots: v.roots, Intermediates: intermediates})
	v.failed = err
	return err
}

// explain turns a connection error caused by the certificate into ErrTLS.
func (v *verifier) explain(err error) error {
	if v.failed != nil {
		return fmt.Errorf("%w: %v", ErrTLS, v.failed)
	}
	return err
}

// Close ends the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Users calls fn for every user the filter (and group, when set) selects, one page at a time, so
// that a sync of 100,000 users never holds them all. fn's error stops the search.
func (c *Client) Users(ctx context.Context, fn func(DirectoryUser) error) error {
	filter, keep, err := c.userFilter(ctx)
	if err != nil {
		return err
	}
	return c.pagedSearch(ctx, c.cfg.BaseDN, filter, c.cfg.Mapping.attributes(), func(e *goldap.Entry) error {
		if keep != nil && !keep[strings.ToLower(e.DN)] {
			return nil
		}
		return fn(c.cfg.Mapping.user(e))
	})
}

// UserByID finds one user by its stable ID: a rename or a moved OU does not lose it.
func (c *Client) UserByID(ctx context.Context, id string) (DirectoryUser, error) {
	idFilter, err := c.cfg.Mapping.idFilter(id)
	if err != nil {
		return DirectoryUser{}, err
	}
	var found []DirectoryUser
	err = c.pagedSearch(ctx, c.cfg.BaseDN, "(&"+c.baseUserFilter()+idFilter+")", c.cfg.Mapping.attributes(), func(e *goldap.Entry) error {
		found = append(found, c.cfg.Mapping.user(e))
		return nil
	})
	if err != nil {
		return DirectoryUser{}, err
	}
	if len(found) != 1 {
		return DirectoryUser{}, fmt.Errorf("ldap: %d users with id %s", len(found), id)
	}
	return found[0], nil
}

func (c *Client) baseUserFilter() string {
	f := strings.TrimSpace(c.cfg.UserFilter)
	if f == "" {
		return c.cfg.Mapping.DefaultFilter
	}
	if !strings.HasPrefix(f, "(") {
		f = "(" + f + ")"
	}
	return f
}

// userFilter adds the group condition. On AD the server resolves nested groups with the in-chain
// matching rule; elsewhere the group tree is walked here and users are kept by DN.
func (c *Client) userFilter(ctx context.Context) (string, map[string]bool, error) {
	base := c.baseUserFilter()
	if c.cfg.GroupDN == "" {
		return base, nil, nil
	}
	if c.cfg.Mapping.InChain {
		return "(&" + base + "(memberOf:" + InChainRule + ":=" + goldap.EscapeFilter(c.cfg.GroupDN) + "))", nil, nil
	}
	members, err := c.NestedMembers(ctx, c.cfg.GroupDN)
	if err != nil {
		return "", nil, err
	}
	return base, members, nil
}

// InChainRule is LDAP_MATCHING_RULE_IN_CHAIN: AD follows nested groups for memberOf with it.
const InChainRule = "1.2.840.113556.1.4.1941"

// NestedMembers returns the DNs (lower-cased) of every member of groupDN and of the groups inside it.
func (c *Client) NestedMembers(ctx context.Context, groupDN string) (map[string]bool, error) {
	seen := map[string]bool{strings.ToLower(groupDN): true}
	members := map[string]bool{}
	queue := []string{groupDN}
	for len(queue) > 0 {
		dn := queue[0]
		queue = queue[1:]
		direct, err := c.GroupMembers(ctx, dn)
		if err != nil {
			return nil, err
		}
		for _, m := range direct {
			key := strings.ToLower(m)
			members[key] = true
			if !seen[key] {
				seen[key] = true
				queue = append(queue, m)
			}
		}
	}
	return members, nil
}

// GroupMembers returns a group's direct member DNs. AD hands a large group's members out in ranges
// (member;range=0-1499, then 1500-2999, ...): the ranges are followed until the one ending in "*".
// A member that is not a group answers with no member values and costs one small read.
func (c *Client) GroupMembers(ctx context.Context, groupDN string) ([]string, error) {
	var all []string
	low := 0
	for {
		attr := "member"
		if c.cfg.RangeSize > 0 || low > 0 {
			attr = rangeAttr(low, c.cfg.RangeSize)
		}
		entry, err := c.readEntry(ctx, groupDN, attr)
		if err != nil {
			return nil, err
		}
		if entry == nil {
			return all, nil
		}
		next, done, values := -1, true, []string(nil)
		for _, a := range entry.Attributes {
			name := strings.ToLower(a.Name)
			if name == "member" {
				values = a.Values
				continue
			}
			if r, ok := strings.CutPrefix(name, "member;range="); ok {
				values = a.Values
				_, end, _ := strings.Cut(r, "-")
				if end != "*" {
					n, err := strconv.Atoi(end)
					if err != nil {
						return nil, fmt.Errorf("ldap: unreadable range %q on %s", a.Name, groupDN)
					}
					next, done = n+1, false
				}
			}
		}
		all = append(all, values...)
		if done {
			return all, nil
		}
		low = next
	}
}

func rangeAttr(low, size int) string {
	if size <= 0 {
		return fmt.Sprintf("member;range=%d-*", low)
	}
	return fmt.Sprintf("member;range=%d-%d", low, low+size-1)
}

func (c *Client) readEntry(ctx context.Context, dn, attr string) (*goldap.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	req := goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{attr}, nil)
	res, err := c.conn.Search(req)
	if goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
		return nil, nil
	}
	if err != nil {
		return nil, c.searchError(err)
	}
	if len(res.Entries) == 0 {
		return nil, nil
	}
	return res.Entries[0], nil
}

// pagedSearch runs the simple paged results control by hand so that each page goes to fn before the
// next one is asked for.
func (c *Client) pagedSearch(ctx context.Context, base, filter string, attrs []string, fn func(*goldap.Entry) error) error {
	paging := goldap.NewControlPaging(c.cfg.PageSize)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		req := goldap.NewSearchRequest(base, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false, filter, attrs, []goldap.Control{paging})
		res, err := c.conn.Search(req)
		if err != nil {
			return c.searchError(err)
		}
		for _, e := range res.Entries {
			if err := fn(e); err != nil {
				return err
			}
		}
		ctrl, ok := goldap.FindControl(res.Controls, goldap.ControlTypePaging).(*goldap.ControlPaging)
		if !ok || len(ctrl.Cookie) == 0 {
			return nil
		}
		paging.SetCookie(ctrl.Cookie)
	}
}

func (c *Client) searchError(err error) error {
	if goldap.IsErrorWithCode(err, goldap.ErrorNetwork) {
		return fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	return fmt.Errorf("ldap search: %w", err)
}
