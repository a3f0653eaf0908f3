// Package ldaptest starts real directory servers for tests: Debian's slapd (OpenLDAP) on a loopback
// port, and a Samba AD domain controller. A missing binary fails the test: CI installs both.
package ldaptest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// OpenLDAP test directory values.
const (
	Suffix    = "dc=example,dc=test"
	ManagerDN = "cn=manager," + Suffix
	Password  = "secret-manager"
	// ReaderDN is not the rootdn, so the size limit applies to it: only a paged search reads all.
	ReaderDN       = "cn=reader," + Suffix
	ReaderPassword = "secret-reader"
	PeopleDN       = "ou=people," + Suffix
	GroupsDN       = "ou=groups," + Suffix
	// SizeLimit is what one search (or page) may return to the reader.
	SizeLimit = 3
)

// Slapd is a running OpenLDAP server. URL accepts StartTLS; LDAPSURL is TLS from the start. Both
// present a certificate for 127.0.0.1 signed by CAPEM.
type Slapd struct {
	URL      string
	LDAPSURL string
	CAPEM    []byte
}

// StartSlapd runs slapd with a fresh mdb database seeded with ldif (added after the base entries),
// stopped when the test ends.
func StartSlapd(t testing.TB, ldif string) *Slapd {
	t.Helper()
	return startSlapd(t, SizeLimit, func(w io.Writer) error {
		_, err := io.WriteString(w, ldif)
		return err
	})
}

// BulkSizeLimit is the reader's limit in a StartSlapdBulk directory: Active Directory's
// MaxPageSize, so that reading every user takes pages of at most 1,000.
const BulkSizeLimit = 1000

// BulkPerson is the i-th person StartSlapdBulk loads (0-based): uid user0000042, email
// user0000042@example.test, named Given42 Family42.
func BulkPerson(i int) (uid, first, last, email string) {
	uid = fmt.Sprintf("user%07d", i)
	return uid, fmt.Sprintf("Given%d", i), fmt.Sprintf("Family%d", i), uid + "@example.test"
}

// StartSlapdBulk runs slapd with n people (BulkPerson(0) to BulkPerson(n-1)) under ou=people,
// stopped when the test or benchmark ends. The entries are written to an LDIF file and loaded
// offline by slapadd before slapd starts: 100,000 of them load in seconds, where adding them
// over LDAP would take minutes. The reader may read BulkSizeLimit entries per page.
func StartSlapdBulk(tb testing.TB, n int) *Slapd {
	tb.Helper()
	return startSlapd(tb, BulkSizeLimit, func(w io.Writer) error {
		for i := range n {
			if _, err := io.WriteString(w, Person(BulkPerson(i))); err != nil {
				return err
			}
		}
		return nil
	})
}

// startSlapd loads the base entries and what seed writes into a fresh mdb database with slapadd,
// then runs slapd on it, the reader limited to sizeLimit entries per search or page.
func startSlapd(t testing.TB, sizeLimit int, seed func(io.Writer) error) *Slapd {
	t.Helper()
	bin, err := exec.LookPath("slapd")
	if err != nil {
		bin = "/usr/sbin/slapd"
		if _, statErr := os.Stat(bin); statErr != nil {
			t.Fatalf("slapd is not installed (apt-get install slapd): %v", err)
		}
	}
	dir := t.TempDir()
	dbDir := filepath.Join(dir, "db")
	if err := os.Mkdir(dbDir, 0o700); err != nil {
		t.Fatal(err)
	}
	caPEM := testCerts(t, dir)
	conf := filepath.Join(dir, "slapd.conf")
	writeFile(t, conf, slapdConf(dir, dbDir, sizeLimit))
	seedPath := filepath.Join(dir, "seed.ldif")
	if err := writeLDIF(seedPath, seed); err != nil {
		t.Fatal(err)
	}
	slapadd := filepath.Join(filepath.Dir(bin), "slapadd")
	// -q skips slapadd's consistency checks: the LDIF is ours, and it loads several times faster.
	if out, err := exec.Command(slapadd, "-q", "-f", conf, "-l", seedPath).CombinedOutput(); err != nil {
		t.Fatalf("slapadd: %v\n%s", err, out)
	}
	port, tlsPort := freePort(t), freePort(t)
	url := fmt.Sprintf("ldap://127.0.0.1:%d", port)
	ldapsURL := fmt.Sprintf("ldaps://127.0.0.1:%d", tlsPort)
	var logs bytes.Buffer
	// -d keeps slapd in the foreground so that the test owns (and stops) the process.
	cmd := exec.Command(bin, "-f", conf, "-h", url+"/ "+ldapsURL+"/", "-d", "0")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("slapd: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for _, p := range []int{port, tlsPort} {
		waitPort(t, fmt.Sprintf("127.0.0.1:%d", p), func() string { return logs.String() })
	}
	return &Slapd{URL: url, LDAPSURL: ldapsURL, CAPEM: caPEM}
}

// writeLDIF writes the base entries, then what seed writes, to path.
func writeLDIF(path string, seed func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	_, err = io.WriteString(w, baseLDIF+"\n")
	if err == nil {
		err = seed(w)
	}
	if err == nil {
		err = w.Flush()
	}
	return errors.Join(err, f.Close())
}

func slapdConf(dir, dbDir string, sizeLimit int) string {
	return `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile ` + filepath.Join(dir, "slapd.pid") + `
argsfile ` + filepath.Join(dir, "slapd.args") + `
TLSCACertificateFile ` + filepath.Join(dir, "ca.pem") + `
TLSCertificateFile ` + filepath.Join(dir, "server.pem") + `
TLSCertificateKeyFile ` + filepath.Join(dir, "server.key") + `
database mdb
maxsize 1073741824
suffix "` + Suffix + `"
rootdn "` + ManagerDN + `"
rootpw ` + Password + `
directory ` + dbDir + `
limits dn.exact="` + ReaderDN + `" size.soft=` + fmt.Sprint(sizeLimit) + ` size.hard=` + fmt.Sprint(sizeLimit) + ` size.pr=` + fmt.Sprint(sizeLimit) + ` size.prtotal=unlimited
access to attrs=userPassword by self write by anonymous auth by * none
access to * by dn.exact="` + ReaderDN + `" read by * none
`
}

const baseLDIF = `dn: ` + Suffix + `
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ` + ReaderDN + `
objectClass: person
cn: reader
sn: reader
userPassword: ` + ReaderPassword + `

dn: ` + PeopleDN + `
objectClass: organizationalUnit
ou: people

dn: ` + GroupsDN + `
objectClass: organizationalUnit
ou: groups
`

// Person is an inetOrgPerson entry under ou=people.
func Person(uid, first, last, email string, extra ...string) string {
	lines := []string{
		"dn: uid=" + uid + "," + PeopleDN,
		"objectClass: inetOrgPerson",
		"uid: " + uid,
		"cn: " + first + " " + last,
		"givenName: " + first,
		"sn: " + last,
		"mail: " + email,
	}
	return strings.Join(append(lines, extra...), "\n") + "\n\n"
}

// PersonDN is the DN of a Person entry.
func PersonDN(uid string) string { return "uid=" + uid + "," + PeopleDN }

// People is the seed most tests start from: ann, bob, cid, dee, eve, fay and gus (first name
// the uid capitalised, last name Tester, email <uid>@example.test, a phone), old (disabled by
// employeeType: Disabled), and the groups inner {cid, dee}, outer {ann, inner} and other {eve}.
func People() string {
	var b strings.Builder
	for _, uid := range []string{"ann", "bob", "cid", "dee", "eve", "fay", "gus"} {
		b.WriteString(Person(uid, strings.ToUpper(uid[:1])+uid[1:], "Tester", uid+"@example.test", "telephoneNumber: +1 555 0100"))
	}
	b.WriteString(Person("old", "Old", "Gone", "old@example.test", "employeeType: Disabled"))
	b.WriteString(Group("inner", PersonDN("cid"), PersonDN("dee")))
	b.WriteString(Group("outer", PersonDN("ann"), "cn=inner,"+GroupsDN))
	b.WriteString(Group("other", PersonDN("eve")))
	return b.String()
}

// Group is a groupOfNames under ou=groups with the given member DNs.
func Group(cn string, members ...string) string {
	lines := []string{"dn: cn=" + cn + "," + GroupsDN, "objectClass: groupOfNames", "cn: " + cn}
	for _, m := range members {
		lines = append(lines, "member: "+m)
	}
	return strings.Join(lines, "\n") + "\n\n"
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitPort waits for a server to accept connections; logs says what it printed when it does not.
func waitPort(t testing.TB, addr string, logs func() string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not start listening:\n%s", addr, logs())
}
