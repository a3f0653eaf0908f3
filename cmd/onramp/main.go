// Command onramp is the whole product in one binary: the console server, migrations, admin
// creation, demo data and the reference VPN client.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"onramp/models"
)

const usage = `Usage: onramp [command]

Commands:
  serve                 run the console (default)
    --no-migrate          refuse to start on an out-of-date schema instead of migrating it
  migrate [up|status]   apply or list database migrations (default: up)
  admin create --account NAME --email E --role admin|helpdesk [--name N]
                        create an admin; the password is read from stdin when it is not a
                        terminal, else prompted for twice
  demo --account NAME --users N
                        fill an account with N realistic demo users and their codes,
                        devices, mail and events of the past 30 days (batched)
  directory scim-token --account NAME --name LABEL
                        print a new SCIM bearer token for the account's SCIM directory
                        LABEL (created when missing), alone on its line; it is shown once
  directory sync --account NAME --name LABEL
                        sync the account's LDAP directory LABEL now, in the foreground, and
                        print the counts (exit 1 when the sync fails, 3 when a safety limit
                        stopped it: approve it on the Directory Sync tab)
  directory add-ldap --account NAME --name LABEL --url URL --bind-dn DN --base-dn DN
                        [--user-filter F] [--preset ad|openldap]
                        create an LDAP directory (the bind password is read from stdin when
                        it is not a terminal, else prompted for twice); prints what it
                        created on stderr
  token create --account NAME --name LABEL --scopes a,b,c [--expires 30d]
                        print a new token of the admin REST API (docs/api.md) alone on its
                        line; it is shown once (scopes: users:read, users:write, codes:write,
                        codes:read, devices:write, events:read, settings:read)
  sso set --account NAME --issuer URL --client-id ID [--create-users]
                        connect the account's OpenID provider (client secret on stdin) and
                        turn single sign-on on; discovery is checked first
  client register --server URL --code CODE [--device-name N] [--platform P]
  client login --server URL --account A --email E [--totp CODE] [--device-name N]
  client login --sso --server URL --account A [--device-name N]
                        the reference VPN client: register this device with a one-time code,
                        or sign in with a password (read from stdin when it is not a terminal,
                        else prompted for; the authenticator code is asked for when needed),
                        or with the identity provider (--sso: prints a link and a QR code to
                        open in a browser, then waits for the sign-in)
  client status [--server URL]
                        check that this device's credential still works (exit 0 active,
                        3 refused by the server, 1 other failures); the credential is kept
                        in the user's config dir (ONRAMP_CLIENT_CONFIG overrides the path)
  secret reseal         rewrite everything sealed under ONRAMP_SECRET_PREVIOUS under
                        ONRAMP_SECRET, in short batches while servers run, and print the
                        counts per kind; then ONRAMP_SECRET_PREVIOUS can go (safe to rerun)
  backup FILE           write a consistent copy of the embedded SQLite database to FILE (a new
                        file) while the server runs; on PostgreSQL, points to pg_dump (exit 2)
  healthcheck [--ready] ask this machine's server for /healthz (/readyz with --ready): exit 0
                        when it answers 200 (the container image's HEALTHCHECK)
  version               print the version, commit, Go version and build date (also --version)

Environment: DATABASE_URL, ONRAMP_ADDR, ONRAMP_SECRET, ONRAMP_SECRET_PREVIOUS, ONRAMP_BASE_URL, ONRAMP_ENV,
ONRAMP_DATA_DIR, ONRAMP_SESSION_IDLE, ONRAMP_SESSION_MAX, ONRAMP_PORTAL_SESSION_IDLE,
ONRAMP_PORTAL_SESSION_MAX, ONRAMP_ACTIVATION_TTL, ONRAMP_DRAIN_DELAY, ONRAMP_LOG_LEVEL, ONRAMP_TRUST_PROXY,
ONRAMP_DEBUG, ONRAMP_METRICS_TOKEN, ONRAMP_METRICS_ADDR, SMTP_URL, MAIL_FROM; each NAME may be read from
the file NAME_FILE names
(the README's configuration table; docs/operations.md says more).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "onramp:", err)
		var coded interface{ ExitCode() int }
		if errors.As(err, &coded) {
			os.Exit(coded.ExitCode())
		}
		os.Exit(1)
	}
}

// run is main without the process: tests call it with their own arguments and streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if wantsHelp(args) {
		if section := commandUsage(cmd); section != "" {
			_, err := fmt.Fprintf(stdout, "Usage: onramp %s\n\n%s\n", cmd, section)
			return err
		}
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout, stderr)
	case "admin":
		return admin(ctx, args, getenv, stdin, stdout, stderr)
	case "demo":
		return demoCmd(ctx, args, getenv, stdout, stderr)
	case "directory":
		return directoryCmd(ctx, args, getenv, stdin, stdout, stderr) // directory.go
	case "token":
		return tokenCmd(ctx, args, getenv, stdout, stderr) // token.go
	case "sso":
		return ssoCmd(ctx, args, getenv, stdin, stdout, stderr) // sso.go
	case "client":
		return clientCmd(ctx, args, getenv, stdin, stdout, stderr) // client.go
	case "secret":
		return secretCmd(ctx, args, getenv, stdout, stderr) // reseal.go
	case "backup":
		return backup(ctx, args, getenv, stdout, stderr) // backup.go
	case "healthcheck":
		return healthcheck(ctx, args, getenv, stdout, stderr) // healthcheck.go
	case "version", "--version":
		return versionCmd(stdout) // version.go
	case "help", "-h", "--help":
		_, err := io.WriteString(stdout, usage)
		return err
	}
	return fmt.Errorf("unknown command %q\n\n%s", cmd, usage)
}

// wantsHelp says whether the arguments ask for help (before a "--" that ends the flags).
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// commandUsage is the part of the usage about one command: its lines, each followed by the
// indented lines that describe it. Empty for a command the usage does not list.
func commandUsage(cmd string) string {
	var b strings.Builder
	in := false
	for line := range strings.Lines(usage) {
		switch {
		case strings.HasPrefix(line, "   "):
			// a continuation keeps the state of the command above it
		case strings.HasPrefix(line, "  "):
			in = strings.HasPrefix(line, "  "+cmd+" ") || strings.TrimSpace(line) == cmd
		default:
			in = false
		}
		if in {
			b.WriteString(line)
		}
	}
	return b.String()
}

// accountCommandError words the error of a command that acts in an account: the account not
// found, the service's refusal of its input, or anything else as it is (the sso set command's
// with its name).
func accountCommandError(cmd, account string, err error) error {
	var ve *models.ValidationError
	switch {
	case errors.Is(err, models.ErrNotFound):
		return fmt.Errorf("%s: no account %q", cmd, account)
	case errors.As(err, &ve):
		return errors.New(cmd + ": " + strings.TrimPrefix(ve.Error(), "invalid input: "))
	}
	return fmt.Errorf("%s: %w", cmd, err)
}
