package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"onramp/models"
	"onramp/models/directory"
)

const directoryUsage = "usage: onramp directory scim-token|sync --account NAME --name LABEL\n" +
	"       onramp directory add-ldap --account NAME --name LABEL --url URL --bind-dn DN --base-dn DN [--user-filter F] [--preset ad|openldap] (bind password on stdin)"

// directoryCmd runs `onramp directory …`: scim-token, which prints a new SCIM bearer token
// alone on its line (scripts capture it; nothing else goes to stdout), sync and add-ldap.
func directoryCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "sync" {
		return directorySync(ctx, args[1:], getenv, stdout, stderr) // directory_sync.go
	}
	if len(args) > 0 && args[0] == "add-ldap" {
		return directoryAddLDAP(ctx, args[1:], getenv, stdin, stderr) // directory_ldap.go
	}
	if len(args) == 0 || args[0] != "scim-token" {
		return errors.New(directoryUsage)
	}
	fs := flag.NewFlagSet("directory scim-token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	account := fs.String("account", "", "account name")
	name := fs.String("name", "", "the SCIM directory's name (created when the account has none of that name)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *account == "" || *name == "" {
		return errors.New("directory scim-token: --account and --name are required")
	}
	o, err := open(ctx, getenv, stderr, true)
	if err != nil {
		return err
	}
	defer o.store.Close()
	keys, err := o.keys(ctx)
	if err != nil {
		return err
	}
	tok, err := directory.New(o.store, nil, keys).IssueSCIMToken(ctx, models.NormalizeEmail(*account), *name,
		models.Actor{Type: models.ActorSystem, Label: "command line"})
	if err != nil {
		return accountCommandError("directory scim-token", *account, err)
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}
