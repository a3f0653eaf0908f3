package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"onramp/models/codes"
	"onramp/models/demo"
)

func demoCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	account := fs.String("account", "", "account to fill (created when missing)")
	n := fs.Int("users", 1000, "how many users to add")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *account == "" {
		return errors.New("demo: --account is required")
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
	started := time.Now()
	last := time.Now()
	// The active codes are sealed with the server's secret, so that they redeem and export.
	res, err := demo.Build(ctx, o.store, demo.Options{Account: *account, Users: *n, Sealer: codes.NewSealer(keys),
		Progress: func(done, total int) {
			if time.Since(last) > 2*time.Second || done == total {
				fmt.Fprintf(stdout, "\r%d / %d users", done, total)
				last = time.Now()
			}
		},
		Building: func() {
			fmt.Fprint(stdout, "\nBuilding the indexes (the database had no users: they are built once, at the end)...")
		}})
	if err != nil {
		return err
	}
	name := res.Account.Name
	fmt.Fprintf(stdout, "\nAdded %d demo users to account %q in %s, in %s:\n", res.Users, name,
		time.Since(started).Round(time.Millisecond), o.cfg.database())
	fmt.Fprintf(stdout, "  %d registration codes (active, used, expired, revoked), %d devices, %d events over the past 30 days,\n"+
		"  %d emails (held, queued, sent, failed) in the outbox.\n", res.Codes, res.Devices, res.Events, res.Mail)
	fmt.Fprintf(stdout, "\nTo see it, run `onramp serve` and sign in at %s/login with account %s", o.cfg.BaseURL, name)
	if len(res.Admins) == 0 {
		fmt.Fprintf(stdout, ".\nThe account has no admin yet: create one (the password is read from stdin or prompted for):\n"+
			"  onramp admin create --account %s --email you@example.com --role admin\n", name)
		return nil
	}
	fmt.Fprintf(stdout, " as %s, with that admin's password\n(set with `onramp admin create`, or changed in the console).\n",
		strings.Join(res.Admins, " or "))
	return nil
}
