package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
)

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	sub := "up"
	if len(args) > 0 {
		sub = args[0]
	}
	if sub != "up" && sub != "status" {
		return fmt.Errorf("migrate: unknown subcommand %q (use up or status)", sub)
	}
	o, err := open(ctx, getenv, stderr, sub == "up")
	if err != nil {
		return err
	}
	defer o.store.Close()
	if sub == "status" {
		m, err := o.store.Migrator()
		if err != nil {
			return err
		}
		st, err := m.Status(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(w, "VERSION\tSTATE\tAPPLIED AT (UTC)\tFILE\n")
		for _, m := range st {
			at := "-"
			if !m.AppliedAt.IsZero() {
				at = m.AppliedAt.UTC().Format("2006-01-02 15:04:05")
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", m.Source.Version, m.State, at, m.Source.Path)
		}
		return w.Flush()
	}
	return nil
}
