package ldaptest_test

import (
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"onramp/models/directory/ldaptest"
)

// TestStartSlapdBulk: every generated person is loaded, the reader gets at most BulkSizeLimit
// entries from one search, and a paged search reads them all, each as BulkPerson describes it.
func TestStartSlapdBulk(t *testing.T) {
	t.Parallel()
	const n = 2*ldaptest.BulkSizeLimit + 500
	s := ldaptest.StartSlapdBulk(t, n)
	conn, err := goldap.DialURL(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if err := conn.Bind(ldaptest.ReaderDN, ldaptest.ReaderPassword); err != nil {
		t.Fatal(err)
	}
	search := func() *goldap.SearchRequest {
		return goldap.NewSearchRequest(ldaptest.PeopleDN, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=inetOrgPerson)", []string{"uid", "givenName", "sn", "mail", "entryUUID"}, nil)
	}
	if _, err := conn.Search(search()); !goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) {
		t.Errorf("an unpaged search of %d people: %v, want the size limit", n, err)
	}
	res, err := conn.SearchWithPaging(search(), ldaptest.BulkSizeLimit)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != n {
		t.Fatalf("the paged search read %d people, want %d", len(res.Entries), n)
	}
	seen := map[string]bool{}
	for _, e := range res.Entries {
		seen[e.GetAttributeValue("uid")+" "+e.GetAttributeValue("givenName")+" "+e.GetAttributeValue("sn")+" "+e.GetAttributeValue("mail")] = true
		if e.GetAttributeValue("entryUUID") == "" {
			t.Fatalf("%s has no entryUUID", e.DN)
		}
	}
	for i := range n {
		uid, first, last, email := ldaptest.BulkPerson(i)
		if !seen[uid+" "+first+" "+last+" "+email] {
			t.Fatalf("person %d (%s) was not read back", i, uid)
		}
	}
}
