package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"onramp/models/directory"
	"onramp/models/directory/ldaptest"
	"onramp/models/secret"
)

// TestDirectoryAddLDAP: `onramp directory add-ldap` reads the bind password from stdin, creates
// the directory with the preset's mapping and the default limits, prints what it created on
// stderr (never the password, nothing on stdout), and the sealed password opens with the
// server's key: Test connection binds to a real slapd. A second directory of the same name,
// a bad URL, a missing password and an unknown account are errors.
func TestDirectoryAddLDAP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := ldaptest.StartSlapd(t, ldaptest.Person("ann", "Ann", "Tester", "ann@example.test")+ldaptest.Person("bob", "Bob", "Tester", "bob@example.test"))
	env := testEnv(t, nil)
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"admin", "create", "--account", "acme", "--email", "ada@example.com"}, env,
		strings.NewReader("violet harbour lantern\n"), &out, &errOut); err != nil {
		t.Fatalf("admin create: %v\n%s", err, errOut.String())
	}
	addLDAP := func(stdin string, extra ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		args := append([]string{"directory", "add-ldap", "--account", "ACME", "--name", "Corp", "--url", s.URL,
			"--bind-dn", ldaptest.ManagerDN, "--base-dn", ldaptest.PeopleDN, "--preset", "openldap"}, extra...)
		err := run(ctx, args, env, strings.NewReader(stdin), &out, &errOut)
		return out.String(), errOut.String(), err
	}
	if _, _, err := addLDAP(""); err == nil || !strings.Contains(err.Error(), "password") {
		t.Fatalf("no password on stdin: %v", err)
	}
	stdout, stderr, err := addLDAP(ldaptest.Password+"\n", "--user-filter", "(objectClass=inetOrgPerson)")
	if err != nil {
		t.Fatalf("add-ldap: %v\n%s", err, stderr)
	}
	if stdout != "" || !strings.Contains(stderr, `Created LDAP directory "Corp"`) || !strings.Contains(stderr, "directory:Corp") {
		t.Fatalf("stdout %q, stderr %q", stdout, stderr)
	}
	if strings.Contains(stderr, ldaptest.Password) {
		t.Fatal("the password was printed")
	}
	if _, _, err := addLDAP(ldaptest.Password + "\n"); err == nil || !strings.Contains(err.Error(), "already has a directory named Corp") {
		t.Fatalf("the same name again: %v", err)
	}
	if _, _, err := addLDAP(ldaptest.Password+"\n", "--name", "Other", "--url", "https://dc.example.com"); err == nil || !strings.Contains(err.Error(), "url") {
		t.Fatalf("an https URL: %v", err)
	}
	var o bytes.Buffer
	if err := run(ctx, []string{"directory", "add-ldap", "--account", "nope", "--name", "X", "--url", s.URL, "--bind-dn", "cn=a",
		"--base-dn", "dc=x"}, env, strings.NewReader("pw\n"), &o, &o); err == nil || !strings.Contains(err.Error(), "no account") {
		t.Fatalf("unknown account: %v", err)
	}

	opened, err := open(ctx, env, &o, false)
	if err != nil {
		t.Fatal(err)
	}
	defer opened.store.Close()
	admins, err := opened.store.AdminsByEmail(ctx, "ada@example.com", 1)
	if err != nil || len(admins) != 1 {
		t.Fatalf("admin: %v", err)
	}
	svc := directory.New(opened.store, nil, secret.NewKeys(opened.cfg.Secret))
	ds, err := svc.Directories(ctx, admins[0].AccountID)
	if err != nil || len(ds) != 1 {
		t.Fatalf("directories: %v %v", ds, err)
	}
	ld, err := svc.LDAPDirectory(ctx, &admins[0], ds[0].Directory.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ld.Input.AttrID != "entryUUID" || ld.Input.LimitCount != 10 || ld.Input.LimitPercent != 10 || ld.Input.UserFilter != "(objectClass=inetOrgPerson)" {
		t.Fatalf("settings %+v", ld.Input)
	}
	res, err := svc.TestLDAPConnection(ctx, &admins[0], ds[0].Directory.ID)
	if err != nil || !res.OK || res.Total != 2 {
		t.Fatalf("test connection: %+v, %v", res, err)
	}
}
