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

// directoryAddLDAP runs `onramp directory add-ldap`: it creates an LDAP directory with the
// preset's mapping and the default safety limits, the bind password read from stdin (never a
// flag: flags show in ps and shell history), and says on stderr what it created, nothing secret.
func directoryAddLDAP(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stderr io.Writer) error {
	fs := flag.NewFlagSet("directory add-ldap", flag.ContinueOnError)
	fs.SetOutput(stderr)
	account := fs.String("account", "", "account name")
	name := fs.String("name", "", "the directory's name (its users' origin is directory:<name>)")
	serverURL := fs.String("url", "", "ldap://host[:port] or ldaps://host[:port]")
	bindDN := fs.String("bind-dn", "", "the DN Onramp binds with")
	baseDN := fs.String("base-dn", "", "where users are searched")
	filter := fs.String("user-filter", "", "the user filter (default: the preset's)")
	preset := fs.String("preset", "ad", "ad or openldap: the attribute mapping")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *account == "" || *name == "" || *serverURL == "" || *bindDN == "" || *baseDN == "" {
		return errors.New("directory add-ldap: --account, --name, --url, --bind-dn and --base-dn are required")
	}
	if *preset != "ad" && *preset != "openldap" {
		return fmt.Errorf("directory add-ldap: --preset is ad or openldap, not %q", *preset)
	}
	pw, err := readPassword(stdin, stderr)
	if err != nil {
		return fmt.Errorf("directory add-ldap: the bind password: %w", err)
	}
	in := directory.NewLDAPInput(*preset)
	in.Name, in.URL, in.BindDN, in.BaseDN, in.UserFilter, in.Password = *name, *serverURL, *bindDN, *baseDN, *filter, pw
	o, err := open(ctx, getenv, stderr, true)
	if err != nil {
		return err
	}
	defer o.store.Close()
	keys, err := o.keys(ctx)
	if err != nil {
		return err
	}
	d, err := directory.New(o.store, nil, keys).CreateLDAPDirectoryIn(ctx, models.NormalizeEmail(*account),
		models.Actor{Type: models.ActorSystem, Label: "command line"}, in)
	if err != nil {
		return accountCommandError("directory add-ldap", *account, err)
	}
	_, err = fmt.Fprintf(stderr, "Created LDAP directory %q (id %d, preset %s) in account %q: %s, bind DN %s, base DN %s.\n"+
		"Its users get the origin %s. Safety limits %d users / %d%%, no schedule: test it on the Directory Sync tab, "+
		"then run onramp directory sync --account %s --name %q.\n",
		d.Name, d.ID, in.Preset, *account, in.URL, in.BindDN, in.BaseDN, d.Origin(), in.LimitCount, in.LimitPercent, *account, d.Name)
	return err
}
