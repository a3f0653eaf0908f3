package ldap_test

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"onramp/models/directory/ldaptest"
)

// bigGroup is over AD's 1,500-value member range, so its members come back in several ranges.
const bigGroup = 1600

// One Samba DC per test binary: its LDAP port is fixed. It is seeded once (about a minute for the
// big group) and the tests only read it, except each test's own renames of its own users.
var (
	sambaOnce sync.Once
	sambaDir  string
	sambaDC   *ldaptest.SambaDC
	sambaErr  error
)

func samba(t *testing.T) *ldaptest.SambaDC {
	t.Helper()
	sambaOnce.Do(func() {
		sambaDir, sambaErr = os.MkdirTemp("", "onramp-samba-")
		if sambaErr != nil {
			return
		}
		sambaDC, sambaErr = ldaptest.StartSambaDC(sambaDir)
		if sambaErr != nil {
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
	return sambaDC
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
