package ldaptest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// Samba AD test domain values.
const (
	SambaURL      = "ldap://127.0.0.1" // Samba's LDAP port is fixed: one DC per test binary
	SambaBaseDN   = "DC=example,DC=test"
	SambaAdminDN  = "CN=Administrator,CN=Users," + SambaBaseDN
	SambaPassword = "Onramp-Admin-1!"
	SambaUsersDN  = "OU=Staff," + SambaBaseDN
	SambaGroupsDN = "OU=Groups," + SambaBaseDN
)

// AD userAccountControl values for seeded accounts: PASSWD_NOTREQD lets an account without a
// password be enabled; the disabled one adds ACCOUNTDISABLE (0x2) to it.
const (
	uacEnabled  = 0x220 // NORMAL_ACCOUNT | PASSWD_NOTREQD
	uacDisabled = uacEnabled | 0x2
)

// SambaDC is a running Samba Active Directory domain controller.
type SambaDC struct {
	cmd  *exec.Cmd
	logs bytes.Buffer
	mu   sync.Mutex
	lock *os.File // held while the DC runs: the ports are the machine's
}

// sambaLock is taken, with flock, by every test binary that runs a DC: its ports are fixed,
// so the test binaries of several packages (go test ./... runs them side by side) take turns.
var sambaLock = filepath.Join(os.TempDir(), "onramp-samba-dc.lock")

// StartSambaDC provisions a domain in dir (TDB_NO_FSYNC: fsync makes provisioning five times
// slower) and starts samba on loopback, LDAP only, once no other test binary runs a DC. Stop
// it with Stop.
func StartSambaDC(dir string) (*SambaDC, error) {
	for _, bin := range []string{"samba", "samba-tool"} {
		if _, err := exec.LookPath(bin); err != nil {
			return nil, fmt.Errorf("%s is not installed (apt-get install samba-ad-dc samba-ad-provision): %w", bin, err)
		}
	}
	lock, err := os.OpenFile(sambaLock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		_ = lock.Close()
		return nil, fmt.Errorf("waiting for the Samba DC lock %s: %w", sambaLock, err)
	}
	// A DC started without the lock (another checkout's tests) would answer in this one's
	// place: wait until the port is free.
	if err := waitPortFree("127.0.0.1:389", 10*time.Minute); err != nil {
		_ = lock.Close()
		return nil, err
	}
	dc, err := startSambaDC(dir)
	if err != nil {
		_ = lock.Close()
		return nil, err
	}
	dc.lock = lock
	return dc, nil
}

// waitPortFree waits until nothing listens on addr.
func waitPortFree(addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return nil
		}
		_ = conn.Close()
		if time.Now().After(deadline) {
			return fmt.Errorf("%s is still taken after %s (a Samba DC of other tests?)", addr, limit)
		}
		time.Sleep(time.Second)
	}
}

func startSambaDC(dir string) (*SambaDC, error) {
	env := append(os.Environ(), "TDB_NO_FSYNC=1")
	args := []string{"domain", "provision", "--targetdir=" + dir, "--realm=EXAMPLE.TEST", "--domain=EXAMPLE",
		"--adminpass=" + SambaPassword, "--server-role=dc", "--dns-backend=NONE", "--use-rfc2307"}
	for _, o := range []string{"interfaces=lo", "bind interfaces only=yes", "server services=ldap"} {
		args = append(args, "--option="+o)
	}
	for _, d := range []string{"pid directory", "lock directory", "state directory", "cache directory", "ncalrpc dir", "private dir"} {
		args = append(args, "--option="+d+"="+filepath.Join(dir, strings.Fields(d)[0]))
	}
	args = append(args, "--option=log file="+filepath.Join(dir, "log.%m"))
	prov := exec.Command("samba-tool", args...)
	prov.Env = env
	if out, err := prov.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("samba-tool domain provision: %w\n%s", err, out)
	}
	conf := filepath.Join(dir, "etc", "smb.conf")
	raw, err := os.ReadFile(conf)
	if err != nil {
		return nil, err
	}
	// Provisioning drops this option; the tests bind with a plain simple bind over ldap://.
	raw = bytes.Replace(raw, []byte("[global]\n"), []byte("[global]\n\tldap server require strong auth = no\n"), 1)
	if err := os.WriteFile(conf, raw, 0o600); err != nil {
		return nil, err
	}
	dc := &SambaDC{}
	dc.cmd = exec.Command("samba", "-s", conf, "-i", "-M", "single", "--maximum-runtime=1800")
	dc.cmd.Env = env
	dc.cmd.Dir = dir
	dc.cmd.Stdout, dc.cmd.Stderr = &syncWriter{dc}, &syncWriter{dc}
	if err := dc.cmd.Start(); err != nil {
		return nil, err
	}
	if err := dc.waitReady(); err != nil {
		dc.Stop()
		return nil, err
	}
	return dc, nil
}

type syncWriter struct{ dc *SambaDC }

func (w *syncWriter) Write(p []byte) (int, error) {
	w.dc.mu.Lock()
	defer w.dc.mu.Unlock()
	return w.dc.logs.Write(p)
}

// waitReady waits until an admin bind works: the port opens a moment before the directory answers.
func (dc *SambaDC) waitReady() error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if conn, err := dc.Admin(); err == nil {
			_ = conn.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	dc.mu.Lock()
	defer dc.mu.Unlock()
	return fmt.Errorf("samba did not answer on %s:\n%s", SambaURL, dc.logs.String())
}

// Admin returns a connection bound as the domain administrator.
func (dc *SambaDC) Admin() (*goldap.Conn, error) {
	conn, err := goldap.DialURL(SambaURL)
	if err != nil {
		return nil, err
	}
	if err := conn.Bind(SambaAdminDN, SambaPassword); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return conn, nil
}

// Stop ends samba and lets another test binary run its DC.
func (dc *SambaDC) Stop() {
	_ = dc.cmd.Process.Kill()
	_ = dc.cmd.Wait()
	if dc.lock != nil {
		_ = dc.lock.Close()
	}
}

// SambaUserDN is the DN of a seeded user.
func SambaUserDN(name string) string { return "CN=" + name + "," + SambaUsersDN }

// SambaGroupDN is the DN of a seeded group.
func SambaGroupDN(name string) string { return "CN=" + name + "," + SambaGroupsDN }

// SeedSamba adds the OUs, users and groups the tests read:
//   - ann, bob, cid, dee (enabled) and old (disabled);
//   - group inner {cid, dee}, group outer {ann, inner}, group other {old};
//   - big users big0000..big(n-1) and group big with all of them (over AD's 1,500 member range).
func SeedSamba(conn *goldap.Conn, big int) error {
	for _, ou := range []string{SambaUsersDN, SambaGroupsDN} {
		name, _, _ := strings.Cut(strings.TrimPrefix(ou, "OU="), ",")
		add := goldap.NewAddRequest(ou, nil)
		add.Attribute("objectClass", []string{"organizationalUnit"})
		add.Attribute("ou", []string{name})
		if err := conn.Add(add); err != nil {
			return fmt.Errorf("add %s: %w", ou, err)
		}
	}
	people := map[string]int{"ann": uacEnabled, "bob": uacEnabled, "cid": uacEnabled, "dee": uacEnabled, "old": uacDisabled}
	for name, uac := range people {
		if err := addSambaUser(conn, name, uac); err != nil {
			return err
		}
	}
	bigMembers := make([]string, big)
	for i := range big {
		name := fmt.Sprintf("big%04d", i)
		if err := addSambaUser(conn, name, uacEnabled); err != nil {
			return err
		}
		bigMembers[i] = SambaUserDN(name)
	}
	groups := []struct {
		name    string
		members []string
	}{
		{"inner", []string{SambaUserDN("cid"), SambaUserDN("dee")}},
		{"outer", []string{SambaUserDN("ann"), SambaGroupDN("inner")}},
		{"other", []string{SambaUserDN("old")}},
		{"big", bigMembers},
	}
	for _, g := range groups {
		add := goldap.NewAddRequest(SambaGroupDN(g.name), nil)
		add.Attribute("objectClass", []string{"group"})
		add.Attribute("sAMAccountName", []string{"grp-" + g.name})
		if len(g.members) > 0 {
			add.Attribute("member", g.members)
		}
		if err := conn.Add(add); err != nil {
			return fmt.Errorf("add group %s: %w", g.name, err)
		}
	}
	return nil
}

func addSambaUser(conn *goldap.Conn, name string, uac int) error {
	add := goldap.NewAddRequest(SambaUserDN(name), nil)
	add.Attribute("objectClass", []string{"user"})
	add.Attribute("sAMAccountName", []string{name})
	add.Attribute("givenName", []string{strings.ToUpper(name[:1]) + name[1:]})
	add.Attribute("sn", []string{"Tester"})
	add.Attribute("mail", []string{name + "@example.test"})
	add.Attribute("userAccountControl", []string{fmt.Sprint(uac)})
	if err := conn.Add(add); err != nil {
		return fmt.Errorf("add user %s: %w", name, err)
	}
	return nil
}

// SharedDC is the one Samba DC of a test binary: the first test that asks for it starts and
// seeds it (SeedSamba with big members in the big group, about a minute); TestMain stops it
// with Stop once the tests are done.
type SharedDC struct {
	big  int
	once sync.Once
	dir  string
	dc   *SambaDC
	err  error
}

// NewSharedDC describes a test binary's DC, seeded with big members in the big group.
func NewSharedDC(big int) *SharedDC { return &SharedDC{big: big} }

// Get returns the running, seeded DC, starting it on the first call; a DC that cannot start
// fails the test.
func (s *SharedDC) Get(t testing.TB) *SambaDC {
	t.Helper()
	s.once.Do(func() {
		if s.dir, s.err = os.MkdirTemp("", "onramp-samba-"); s.err != nil {
			return
		}
		if s.dc, s.err = StartSambaDC(s.dir); s.err != nil {
			return
		}
		conn, err := s.dc.Admin()
		if err != nil {
			s.err = err
			return
		}
		defer conn.Close()
		s.err = SeedSamba(conn, s.big)
	})
	if s.err != nil {
		t.Fatalf("samba AD DC: %v", s.err)
	}
	return s.dc
}

// Stop ends the DC, if one was started, and removes its directory.
func (s *SharedDC) Stop() error {
	if s.dc != nil {
		s.dc.Stop()
	}
	if s.dir == "" {
		return nil
	}
	return os.RemoveAll(s.dir)
}
