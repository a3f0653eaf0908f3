package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

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
	started := time.Now()
	last := time.Now()
	a, err := demo.Fill(ctx, o.store, *account, *n, func(done, total int) {
		if time.Since(last) > 2*time.Second || done == total {
			fmt.Fprintf(stdout, "\r%d / %d users", done, total)
			last = time.Now()
		}
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nAdded %d demo users to account %q in %s.\n", *n, a.Name, time.Since(started).Round(time.Millisecond))
	return nil
}
