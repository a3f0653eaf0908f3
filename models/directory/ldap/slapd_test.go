package ldap_test

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"onramp/models/directory/ldap"
	"onramp/models/directory/ldaptest"
)

func person(uid string) string { return ldaptest.PersonDN(uid) }

func slapdSeed() string { return ldaptest.People() }

func openldapConfig(t *testing.T, s *ldaptest.Slapd) ldap.Config {
	t.Helper()
	m, err := ldap.Preset(ldap.PresetOpenLDAP)
	if err != nil {
		t.Fatal(err)
	}
	m.DisabledAttr, m.DisabledValue = "employeeType", "disabled"
	return ldap.Config{
		URL: s.URL, BindDN: ldaptest.ReaderDN, Password: ldaptest.ReaderPassword,
		BaseDN: ldaptest.PeopleDN, Mapping: m, PageSize: 2,
	}
}

func dial(t *testing.T, cfg ldap.Config) *ldap.Client {
	t.Helper()
	c, err := ldap.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// bindRaw is a plain go-ldap connection, to change the directory or look at it without the client.
func bindRaw(t *testing.T, s *ldaptest.Slapd, dn, password string) *goldap.Conn {
	t.Helper()
	conn, err := goldap.DialURL(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if err := conn.Bind(dn, password); err != nil {
		t.Fatal(err)
	}
	return conn
}

func allUsers(t *testing.T, c *ldap.Client) map[string]ldap.DirectoryUser {
	t.Helper()
	users := map[string]ldap.DirectoryUser{}
	if err := c.Users(context.Background(), func(u ldap.DirectoryUser) error {
		users[u.DN] = u
		return nil
	}); err != nil {
		t.Fatalf("users: %v", err)
	}
	return users
}

func TestSlapdPagedSearchReadsPastTheSizeLimit(t *testing.T) {
	t.Parallel()
	s := ldaptest.StartSlapd(t, slapdSeed())
	cfg := openldapConfig(t, s)

	// Without paging the reader is cut at the size limit: this is the path paging must get past.
	conn := bindRaw(t, s, ldaptest.ReaderDN, ldaptest.ReaderPassword)
	_, err := conn.Search(goldap.NewSearchRequest(ldaptest.PeopleDN, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=inetOrgPerson)", []string{"uid"}, nil))
	if !goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) {
		t.Fatalf("unpaged search: want sizeLimitExceeded, got %v", err)
	}

	users := allUsers(t, dial(t, cfg))
	if len(users) != 8 {
		t.Fatalf("want 8 users over several pages, got %d", len(users))
	}
	ann := users[person("ann")]
	if ann.Email != "ann@example.test" || ann.FirstName != "Ann" || ann.LastName != "Tester" || ann.Phone != "+1 555 0100" || ann.Disabled {
		t.Fatalf("ann mapped as %+v", ann)
	}
	if len(ann.ID) != 36 {
		t.Fatalf("ann's id is not an entryUUID: %q", ann.ID)
	}
	if !users[person("old")].Disabled {
		t.Fatal("employeeType=Disabled did not disable old (configured value compared without case)")
	}
}

func TestSlapdEntryUUIDSurvivesRenameAndEmailChange(t *testing.T) {
	t.Parallel()
	s := ldaptest.StartSlapd(t, slapdSeed())
	c := dial(t, openldapConfig(t, s))
	before := allUsers(t, c)[person("bob")]

	admin := bindRaw(t, s, ldaptest.ManagerDN, ldaptest.Password)
	if err := admin.ModifyDN(goldap.NewModifyDNRequest(person("bob"), "uid=robert", true, "")); err != nil {
		t.Fatal(err)
	}
	mod := goldap.NewModifyRequest(person("robert"), nil)
	mod.Replace("mail", []string{"robert@example.test"})
	if err := admin.Modify(mod); err != nil {
		t.Fatal(err)
	}

	after := allUsers(t, c)
	if _, ok := after[person("bob")]; ok {
		t.Fatal("bob's old DN is still there")
	}
	renamed := after[person("robert")]
	if renamed.ID != before.ID || renamed.Email != "robert@example.test" {
		t.Fatalf("renamed user %+v, want id %s and the new email", renamed, before.ID)
	}
	byID, err := c.UserByID(context.Background(), before.ID)
	if err != nil || byID.DN != person("robert") {
		t.Fatalf("by id: %+v, %v", byID, err)
	}
}

func TestSlapdGroupIncludesNestedGroups(t *testing.T) {
	t.Parallel()
	s := ldaptest.StartSlapd(t, slapdSeed())
	cfg := openldapConfig(t, s)
	cfg.GroupDN = "cn=outer," + ldaptest.GroupsDN
	var dns []string
	for dn := range allUsers(t, dial(t, cfg)) {
		dns = append(dns, dn)
	}
	sort.Strings(dns)
	want := []string{person("ann"), person("cid"), person("dee")}
	if strings.Join(dns, "|") != strings.Join(want, "|") {
		t.Fatalf("outer's users %v, want %v (inner's members included, eve's group not)", dns, want)
	}
}

func TestSlapdBindErrors(t *testing.T) {
	t.Parallel()
	s := ldaptest.StartSlapd(t, "")
	cfg := openldapConfig(t, s)
	cfg.Password = "wrong"
	_, err := ldap.Dial(context.Background(), cfg)
	if !errors.Is(err, ldap.ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Fatalf("the error shows the password: %v", err)
	}

	cfg = openldapConfig(t, s)
	cfg.URL = "ldap://127.0.0.1:1"
	if _, err := ldap.Dial(context.Background(), cfg); !errors.Is(err, ldap.ErrUnreachable) {
		t.Fatalf("closed port: %v", err)
	}
	cfg.URL = "http://127.0.0.1"
	if _, err := ldap.Dial(context.Background(), cfg); !errors.Is(err, ldap.ErrConfig) {
		t.Fatalf("http URL: %v", err)
	}
}

func TestSlapdTLS(t *testing.T) {
	t.Parallel()
	s := ldaptest.StartSlapd(t, slapdSeed())
	cases := []struct {
		name    string
		edit    func(*ldap.Config)
		wantErr error
	}{
		{"StartTLS with the CA", func(c *ldap.Config) { c.StartTLS, c.CAPEM = true, s.CAPEM }, nil},
		{"ldaps with the CA", func(c *ldap.Config) { c.URL, c.CAPEM = s.LDAPSURL, s.CAPEM }, nil},
		{"ldaps, verification skipped", func(c *ldap.Config) { c.URL, c.SkipVerify = s.LDAPSURL, true }, nil},
		{"ldaps, unknown CA", func(c *ldap.Config) { c.URL = s.LDAPSURL }, ldap.ErrTLS},
		{"StartTLS, unknown CA", func(c *ldap.Config) { c.StartTLS = true }, ldap.ErrTLS},
		{"CA that is not PEM", func(c *ldap.Config) { c.URL, c.CAPEM = s.LDAPSURL, []byte("nope") }, ldap.ErrConfig},
	}
	for _, tc := range cases {
		cfg := openldapConfig(t, s)
		tc.edit(&cfg)
		c, err := ldap.Dial(context.Background(), cfg)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("%s: got %v, want %v", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if n := len(allUsers(t, c)); n != 8 {
			t.Errorf("%s: %d users", tc.name, n)
		}
		_ = c.Close()
	}
}
