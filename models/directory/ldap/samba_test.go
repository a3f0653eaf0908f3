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

func adConfig(t *testing.T) ldap.Config {
	t.Helper()
	m, err := ldap.Preset(ldap.PresetAD)
	if err != nil {
		t.Fatal(err)
	}
	return ldap.Config{
		URL: ldaptest.SambaURL, BindDN: ldaptest.SambaAdminDN, Password: ldaptest.SambaPassword,
		BaseDN: ldaptest.SambaUsersDN, Mapping: m,
	}
}

func TestSambaPagesThroughAllUsersAndReadsTheDisabledBit(t *testing.T) {
	t.Parallel()
	samba(t)
	cfg := adConfig(t)
	// Samba does not cap a page by itself as Windows does at 1,000: a small page forces the loop.
	cfg.PageSize = 300
	users := allUsers(t, dial(t, cfg))
	if len(users) < bigGroup+4 {
		t.Fatalf("want every user over several pages, got %d", len(users))
	}
	ann, old := users[ldaptest.SambaUserDN("ann")], users[ldaptest.SambaUserDN("old")]
	if ann.Disabled || ann.Email != "ann@example.test" || ann.FirstName != "Ann" || ann.LastName != "Tester" {
		t.Fatalf("ann mapped as %+v", ann)
	}
	if !old.Disabled {
		t.Fatalf("old has ACCOUNTDISABLE (0x2) among other bits but is not disabled: %+v", old)
	}
}

func TestSambaObjectGUIDSurvivesRenameMoveAndEmailChange(t *testing.T) {
	t.Parallel()
	samba(t)
	c := dial(t, adConfig(t))
	before, err := c.UserByID(context.Background(), guidOf(t, c, "bob"))
	if err != nil || before.DN != ldaptest.SambaUserDN("bob") {
		t.Fatalf("bob by GUID before the rename: %+v, %v", before, err)
	}

	admin, err := samba(t).Admin()
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// A renamed account moved to another OU keeps its objectGUID.
	if err := admin.ModifyDN(goldap.NewModifyDNRequest(ldaptest.SambaUserDN("bob"), "CN=Robert", true, ldaptest.SambaGroupsDN)); err != nil {
		t.Fatal(err)
	}
	movedDN := "CN=Robert," + ldaptest.SambaGroupsDN
	mod := goldap.NewModifyRequest(movedDN, nil)
	mod.Replace("mail", []string{"robert@example.test"})
	if err := admin.Modify(mod); err != nil {
		t.Fatal(err)
	}

	wide := adConfig(t)
	wide.BaseDN = ldaptest.SambaBaseDN
	after, err := dial(t, wide).UserByID(context.Background(), before.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.DN != movedDN || after.Email != "robert@example.test" || after.ID != before.ID {
		t.Fatalf("after the rename: %+v, want the same GUID %s", after, before.ID)
	}
}

// guidOf reads a user's GUID through a user search, so that UserByID's filter is checked against it.
func guidOf(t *testing.T, c *ldap.Client, name string) string {
	t.Helper()
	var id string
	err := c.Users(context.Background(), func(u ldap.DirectoryUser) error {
		if u.DN == ldaptest.SambaUserDN(name) {
			id = u.ID
		}
		return nil
	})
	if err != nil || len(id) != 36 {
		t.Fatalf("%s's GUID: %q, %v", name, id, err)
	}
	return id
}

func TestSambaGroupIncludesNestedGroupsInChain(t *testing.T) {
	t.Parallel()
	samba(t)
	cfg := adConfig(t)
	cfg.GroupDN = ldaptest.SambaGroupDN("outer")
	var names []string
	for _, u := range allUsers(t, dial(t, cfg)) {
		names = append(names, u.FirstName)
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "Ann,Cid,Dee" {
		t.Fatalf("outer's users: %v, want Ann and inner's Cid and Dee", names)
	}
}

func TestSambaLargeGroupMembersInRanges(t *testing.T) {
	t.Parallel()
	samba(t)
	cfg := adConfig(t)
	// Samba does not range member by itself as Windows does past 1,500: asking for ranges forces it.
	for _, size := range []int{500, 1500, 0} {
		cfg.RangeSize = size
		members, err := dial(t, cfg).GroupMembers(context.Background(), ldaptest.SambaGroupDN("big"))
		if err != nil {
			t.Fatal(err)
		}
		distinct := map[string]bool{}
		for _, m := range members {
			distinct[strings.ToLower(m)] = true
		}
		if len(members) != bigGroup || len(distinct) != bigGroup {
			t.Fatalf("range size %d: %d members (%d distinct), want %d", size, len(members), len(distinct), bigGroup)
		}
	}
}

func TestSambaBadCredentials(t *testing.T) {
	t.Parallel()
	samba(t)
	cfg := adConfig(t)
	cfg.Password = "not-the-password"
	if _, err := ldap.Dial(context.Background(), cfg); !errors.Is(err, ldap.ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
}

func TestGUIDTextForm(t *testing.T) {
	t.Parallel()
	// Administrator's objectGUID as Samba sent it (base64 X6lYPMhmVkiE71w4Q3n/gg==) and as ldbsearch
	// prints it: the first three fields are little-endian.
	raw := []byte{0x5f, 0xa9, 0x58, 0x3c, 0xc8, 0x66, 0x56, 0x48, 0x84, 0xef, 0x5c, 0x38, 0x43, 0x79, 0xff, 0x82}
	const text = "3c58a95f-66c8-4856-84ef-5c384379ff82"
	if got := ldap.GUIDString(raw); got != text {
		t.Fatalf("GUIDString = %s, want %s", got, text)
	}
	back, err := ldap.GUIDBytes(text)
	if err != nil || string(back) != string(raw) {
		t.Fatalf("GUIDBytes = %x, %v", back, err)
	}
	if _, err := ldap.GUIDBytes("not-a-guid"); !errors.Is(err, ldap.ErrConfig) {
		t.Fatalf("bad GUID: %v", err)
	}
}
