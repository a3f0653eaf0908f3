package ldap_test

import (
	"context"
	"errors"
	"testing"

	"onramp/models/directory/ldap"
	"onramp/models/directory/ldaptest"
)

// TestSlapdPreview: Test connection's count and sample read past the size limit (the reader
// gets 3 entries a search), map users as a sync would, honour the group, and say why a bad
// filter or a missing base DN fails.
func TestSlapdPreview(t *testing.T) {
	t.Parallel()
	s := ldaptest.StartSlapd(t, slapdSeed())
	cfg := openldapConfig(t, s)
	p, err := dial(t, cfg).Preview(context.Background(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 8 || len(p.Sample) != 3 {
		t.Fatalf("preview: %d users, %d sampled; want 8 and 3", p.Total, len(p.Sample))
	}
	for _, u := range p.Sample {
		if len(u.ID) != 36 || u.Email == "" || u.FirstName == "" || u.LastName != "Tester" {
			t.Fatalf("sample user not mapped: %+v", u)
		}
	}

	cfg.GroupDN = "cn=outer," + ldaptest.GroupsDN
	if p, err = dial(t, cfg).Preview(context.Background(), 3); err != nil || p.Total != 3 {
		t.Fatalf("group preview: %+v, %v", p, err)
	}

	cfg = openldapConfig(t, s)
	cfg.UserFilter = "(&(objectClass=inetOrgPerson)(mail=*)"
	if _, err := dial(t, cfg).Preview(context.Background(), 3); !errors.Is(err, ldap.ErrFilter) {
		t.Fatalf("unbalanced filter: %v", err)
	}
	cfg = openldapConfig(t, s)
	cfg.BaseDN = "ou=nowhere," + ldaptest.Suffix
	if _, err := dial(t, cfg).Preview(context.Background(), 3); !errors.Is(err, ldap.ErrConfig) {
		t.Fatalf("missing base DN: %v", err)
	}
}

func TestCheckFilter(t *testing.T) {
	t.Parallel()
	for f, ok := range map[string]bool{
		"":                          true,
		"objectClass=inetOrgPerson": true,
		"(&(objectCategory=person)(objectClass=user))": true,
		"(&(objectClass=user)":                         false,
		"(cn=a)(cn=b)":                                 false,
		"((cn=a)":                                      false,
	} {
		if err := ldap.CheckFilter(f); (err == nil) != ok || (err != nil && !errors.Is(err, ldap.ErrFilter)) {
			t.Errorf("CheckFilter(%q) = %v", f, err)
		}
	}
}
