package main

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// commandRE finds the commands the usage lists: "  serve", "  admin create", "  client login".
var commandRE = regexp.MustCompile(`(?m)^  ([a-z]+)(?: ([a-z]+))?`)

// TestEverySubcommandHelpExitsZero: `--help` and `-h` print the command's usage on stdout and
// succeed, for every command and subcommand the usage lists, before anything opens a database.
func TestEverySubcommandHelpExitsZero(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	var commands [][]string
	for _, m := range commandRE.FindAllStringSubmatch(usage, -1) {
		for _, c := range [][]string{{m[1]}, {m[1], m[2]}} {
			if c[len(c)-1] == "" || seen[strings.Join(c, " ")] {
				continue
			}
			seen[strings.Join(c, " ")] = true
			commands = append(commands, c)
		}
	}
	if len(commands) < 9 {
		t.Fatalf("found only %v in the usage", commands)
	}
	// A database that cannot be opened: help must not need one.
	env := func(k string) string {
		if k == "DATABASE_URL" {
			return "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"
		}
		return ""
	}
	for _, c := range commands {
		for _, flag := range []string{"--help", "-h"} {
			args := append(append([]string{}, c...), flag)
			var out, errOut bytes.Buffer
			err := run(context.Background(), args, env, strings.NewReader(""), &out, &errOut)
			if err != nil {
				t.Errorf("onramp %s: %v (stderr %q)", strings.Join(args, " "), err, errOut.String())
				continue
			}
			if !strings.Contains(out.String(), "Usage: onramp "+c[0]) {
				t.Errorf("onramp %s: stdout %q lacks the usage", strings.Join(args, " "), out.String())
			}
		}
	}
}

// TestAdminCreateSaysWhichDatabase: admin create names the database it wrote to, says when it
// set up a new one, and warns when --account names a new account beside existing ones (a typo
// would otherwise make a second, empty account).
func TestAdminCreateSaysWhichDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testEnv(t, nil)
	create := func(account, email string) (string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(ctx, []string{"admin", "create", "--account", account, "--email", email}, env,
			strings.NewReader("violet harbour lantern\n"), &out, &errOut)
		if err != nil {
			t.Fatalf("admin create %s %s: %v\n%s", account, email, err, errOut.String())
		}
		return out.String(), errOut.String()
	}
	where := describeDatabase(env("DATABASE_URL"), env("ONRAMP_DATA_DIR")+"/onramp.db")
	out, warn := create("acme", "ada@example.com")
	if !strings.Contains(out, "Initialised a new database: "+where) || !strings.Contains(out, "in "+where) {
		t.Fatalf("first admin create:\n%s", out)
	}
	if strings.Contains(warn, "Warning") {
		t.Fatalf("first account warned: %s", warn)
	}
	out, warn = create("acme", "hal@example.com")
	if strings.Contains(out, "Initialised") || strings.Contains(warn, "Warning") || !strings.Contains(out, "in "+where) {
		t.Fatalf("second admin of acme:\n%s\n%s", out, warn)
	}
	_, warn = create("acmee", "ada@example.com")
	if !strings.Contains(warn, `Warning: account "acmee" is new`) || !strings.Contains(warn, "acme") {
		t.Fatalf("a new account beside acme did not warn: %q", warn)
	}
}

// TestDescribeDatabase: the description names the SQLite file or the PostgreSQL host and
// database, never the password.
func TestDescribeDatabase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ url, path, want string }{
		{"", "/srv/data/onramp.db", "SQLite file /srv/data/onramp.db"},
		{"sqlite:/tmp/x.db", "/srv/data/onramp.db", "SQLite file /tmp/x.db"},
		{"postgres://onramp:s3cret@db.internal:5432/onramp?sslmode=require", "", "PostgreSQL database onramp on db.internal:5432 as onramp"},
		{"postgresql://db.internal/prod?search_path=t1", "", "PostgreSQL database prod on db.internal (schema t1)"},
	} {
		if got := describeDatabase(tc.url, tc.path); got != tc.want {
			t.Errorf("describeDatabase(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
}

// TestMakeRunSaysItIsBuilding: the first `make run` compiles for a while; it says so before.
func TestMakeRunSaysItIsBuilding(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("make", "--no-print-directory", "-C", "../..", "-n", "run").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n run: %v\n%s", err, out)
	}
	lines := strings.Split(string(out), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "echo") || !strings.Contains(lines[0], "Building") {
		t.Fatalf("make run does not start by saying it builds:\n%s", out)
	}
}
