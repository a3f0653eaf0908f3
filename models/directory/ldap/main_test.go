package ldap_test

import (
	"fmt"
	"os"
	"testing"

	"onramp/models/directory/ldaptest"
)

// bigGroup is over AD's 1,500-value member range, so its members come back in several ranges.
const bigGroup = 1600

// One Samba DC per test binary: its LDAP port is fixed. It is seeded once (about a minute for the
// big group) and the tests only read it, except each test's own renames of its own users.
var sambaDC = ldaptest.NewSharedDC(bigGroup)

func samba(t *testing.T) *ldaptest.SambaDC {
	t.Helper()
	return sambaDC.Get(t)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if err := sambaDC.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}
