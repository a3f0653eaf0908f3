package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
)

const secretUsage = "usage: onramp secret reseal (with ONRAMP_SECRET the new secret and ONRAMP_SECRET_PREVIOUS the old one)"

// secretCmd runs `onramp secret reseal`: it rewrites everything sealed under
// ONRAMP_SECRET_PREVIOUS under ONRAMP_SECRET, prints what it did per kind, and stores the new
// secret's key check value (docs/replicas.md, Rotating ONRAMP_SECRET). Rerunning it is safe.
func secretCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) != 1 || args[0] != "reseal" {
		return errors.New(secretUsage)
	}
	o, err := open(ctx, getenv, stderr, false)
	if err != nil {
		return err
	}
	defer o.store.Close()
	if err := o.checkSchema(ctx); err != nil {
		return err
	}
	keys, sv, err := o.keyedServices(ctx)
	if err != nil {
		return err
	}
	done, err := sv.Reseal(ctx, keys)
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "kind\tresealed\tunreadable")
	unreadable := 0
	for _, d := range done {
		fmt.Fprintf(w, "%s\t%d\t%d\n", d.Kind, d.Rewritten, d.Unreadable)
		unreadable += d.Unreadable
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("secret reseal: %w (run it again: it goes on where it stopped)", err)
	}
	if unreadable > 0 {
		fmt.Fprintf(stdout, "%d values open under neither secret: left as they are (they did not open before either)\n", unreadable)
	}
	msg := "the database's key check value is now ONRAMP_SECRET's: ONRAMP_SECRET_PREVIOUS can be removed"
	if keys.Previous() == nil {
		msg = "the database's key check value is ONRAMP_SECRET's"
	}
	_, err = fmt.Fprintln(stdout, msg)
	return err
}
