package directory_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"onramp/models"
	"onramp/models/directory/ldap"
	"onramp/models/directory/ldaptest"
)

// bigGroup is over AD's 1,500-value member range.
const bigGroup = 1600

// One Samba AD DC for this test binary (its ports are fixed; ldaptest makes the binaries of
// other packages wait for it), seeded once; these tests only read it.
var (
	sambaOnce sync.Once
	sambaDir  string
	sambaDC   *ldaptest.SambaDC
	sambaErr  error
)

func samba(t *testing.T) {
	t.Helper()
	sambaOnce.Do(func() {
		if sambaDir, sambaErr = os.MkdirTemp("", "onramp-sync-samba-"); sambaErr != nil {
			return
		}
		if sambaDC, sambaErr = ldaptest.StartSambaDC(sambaDir); sambaErr != nil {
			return
		}
		conn, err := sambaDC.Admin()
		if err != nil {
			sambaErr = err
			return
		}
		defer conn.Close()
		sambaErr = ldaptest.SeedSamba(conn, bigGroup)
	})
	if sambaErr != nil {
		t.Fatalf("samba AD DC: %v", sambaErr)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sambaDC != nil {
		sambaDC.Stop()
	}
	if sambaDir != "" {
		if err := os.RemoveAll(sambaDir); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

// newADEnv is an account whose LDAP directory Corp is the Samba DC with the ad preset.
func newADEnv(t *testing.T, edit func(*models.Account, *models.LDAPSettings)) *syncEnv {
	t.Helper()
	samba(t)
	l := &models.LDAPSettings{URL: ldaptest.SambaURL, BindDN: ldaptest.SambaAdminDN, BaseDN: ldaptest.SambaUsersDN, Preset: "ad"}
	return newEnv(t, l, ldaptest.SambaPassword, edit)
}

// guid reads a user's objectGUID with a plain admin connection, as its canonical text.
func guid(t *testing.T, name string) string {
	t.Helper()
	conn, err := sambaDC.Admin()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	res, err := conn.Search(goldap.NewSearchRequest(ldaptest.SambaUserDN(name), goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"objectGUID"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("objectGUID of %s: %v", name, err)
	}
	return ldap.GUIDString(res.Entries[0].GetRawAttributeValue("objectGUID"))
}

// TestSyncActiveDirectory: every user of the Staff OU, over pages of 300, keyed by objectGUID;
// userAccountControl with ACCOUNTDISABLE (0x2) among other bits creates the user disabled; a
// second sync of the 1,605 users changes and writes nothing.
func TestSyncActiveDirectory(t *testing.T) {
	t.Parallel()
	e := newADEnv(t, nil)
	// Samba does not cap a page at 1,000 entries as Windows does: a small page forces paging.
	e.sv.Directory.SetPageSize(300)
	start := time.Now()
	first := e.sync()
	t.Logf("first sync of %d AD users: %s", first.Total, time.Since(start).Round(time.Millisecond))
	all := bigGroup + 5
	wantDone(t, first, counts{created: all})
	us := e.users()
	ann, old := us["ann@example.test"], us["old@example.test"]
	if ann.ExternalID == nil || *ann.ExternalID != guid(t, "ann") || ann.Status != models.UserEnabled || ann.FirstName != "Ann" {
		t.Fatalf("ann: %+v (objectGUID %s)", ann, guid(t, "ann"))
	}
	if old.Status != models.UserDisabled {
		t.Fatal("old (userAccountControl with 0x2) is not disabled")
	}
	start = time.Now()
	wantDone(t, e.sync(), counts{unchanged: all})
	t.Logf("second sync, nothing changed: %s", time.Since(start).Round(time.Millisecond))
}

// TestSyncActiveDirectoryGroups: with a group, the server resolves its members with the
// in-chain rule: nested groups are followed, and a group of 1,600 members (over AD's member
// range) comes whole.
func TestSyncActiveDirectoryGroups(t *testing.T) {
	t.Parallel()
	nested := newADEnv(t, func(_ *models.Account, l *models.LDAPSettings) { l.GroupDN = ldaptest.SambaGroupDN("outer") })
	wantDone(t, nested.sync(), counts{created: 3})
	var emails []string
	for email := range nested.users() {
		emails = append(emails, email)
	}
	slices.Sort(emails)
	if got := strings.Join(emails, ","); got != "ann@example.test,cid@example.test,dee@example.test" {
		t.Fatalf("outer (ann and inner {cid, dee}) synced %s", got)
	}

	big := newADEnv(t, func(_ *models.Account, l *models.LDAPSettings) { l.GroupDN = ldaptest.SambaGroupDN("big") })
	wantDone(t, big.sync(), counts{created: bigGroup})
}
