package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/term"

	"onramp/models"
	"onramp/models/admins"
	"onramp/models/password"
	"onramp/models/store"
)

func admin(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: onramp admin create --account NAME --email E --role admin|helpdesk [--name N]")
	}
	fs := flag.NewFlagSet("admin create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	account := fs.String("account", "", "account name (created when it does not exist)")
	email := fs.String("email", "", "the admin's email")
	role := fs.String("role", "admin", "admin or helpdesk")
	name := fs.String("name", "", "the admin's name (default: from the email)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *account == "" || *email == "" {
		return errors.New("admin create: --account and --email are required")
	}
	if *name == "" {
		*name, _, _ = strings.Cut(*email, "@")
	}
	pw, err := readPassword(stdin, stderr)
	if err != nil {
		return err
	}
	o, err := open(ctx, getenv, stderr, true)
	if err != nil {
		return err
	}
	defer o.store.Close()
	svc := admins.New(o.store, password.NewHasher(), 0)
	a, created, err := svc.Create(ctx, admins.CreateInput{Account: *account, Email: *email, Name: *name, Role: models.Role(*role), Password: pw})
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		return errors.New("admin create: " + strings.TrimPrefix(ve.Error(), "invalid input: "))
	}
	if err != nil {
		return err
	}
	where := o.cfg.database()
	if o.fresh {
		fmt.Fprintf(stdout, "Initialised a new database: %s.\n", where)
	}
	if created {
		fmt.Fprintf(stdout, "Created account %q.\n", *account)
		if err := warnOtherAccounts(ctx, o.store, models.NormalizeEmail(*account), stderr); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "Created %s %s (id %d) in %s. They can sign in now.\n", a.Role, a.Email, a.ID, where)
	return nil
}

// shownAccounts is how many other account names the warning lists.
const shownAccounts = 10

// warnOtherAccounts warns that a new account was created in a database that has others: most
// often a typo in --account, which leaves the admin in an empty account of their own.
func warnOtherAccounts(ctx context.Context, s *store.Store, created string, stderr io.Writer) error {
	names, err := s.AccountNames(ctx, shownAccounts+2)
	if err != nil {
		return err
	}
	others := slices.DeleteFunc(names, func(n string) bool { return n == created })
	if len(others) == 0 {
		return nil
	}
	list := strings.Join(others[:min(len(others), shownAccounts)], ", ")
	if len(others) > shownAccounts {
		list += ", …"
	}
	fmt.Fprintf(stderr, "Warning: account %q is new; this database also has: %s. If you meant one of those, "+
		"check --account (the new account and its admin can be left unused).\n", created, list)
	return nil
}

// readPassword reads one line from stdin when it is not a terminal (scripts pipe it), else
// prompts twice without echo. A password is never a flag: flags show in ps and shell history.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "Repeat the password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the two passwords are not the same")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password on stdin")
	}
	return pw, nil
}
