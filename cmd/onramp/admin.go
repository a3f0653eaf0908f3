package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"onramp/models"
	"onramp/models/admins"
	"onramp/models/password"
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
	if created {
		fmt.Fprintf(stdout, "Created account %q.\n", *account)
	}
	fmt.Fprintf(stdout, "Created %s %s (id %d). They can sign in now.\n", a.Role, a.Email, a.ID)
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
