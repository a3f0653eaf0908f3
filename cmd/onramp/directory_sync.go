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

// exitSyncBlocked is the exit code of a sync a safety limit stopped (1 is any other failure):
// a script can tell "needs an admin's approval" from "broken".
const exitSyncBlocked = 3

// directorySync runs `onramp directory sync`: one sync of an LDAP directory in the
// foreground, with the services the server runs (provisioning hooks, mail queued for the
// server to deliver), then its counts on stdout.
func directorySync(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("directory sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	account := fs.String("account", "", "account name")
	name := fs.String("name", "", "the LDAP directory's name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *account == "" || *name == "" {
		return errors.New("directory sync: --account and --name are required")
	}
	o, err := open(ctx, getenv, stderr, true)
	if err != nil {
		return err
	}
	defer o.store.Close()
	_, sv, err := o.keyedServices(ctx)
	if err != nil {
		return err
	}
	ds, err := sv.Directory.SyncNow(ctx, models.NormalizeEmail(*account), *name, models.Actor{Type: models.ActorSystem, Label: "command line"})
	switch {
	case errors.Is(err, directory.ErrSyncRunning):
		return fmt.Errorf("directory sync: a sync of %s is already running (sync %d); wait for it to finish", *name, ds.ID)
	case errors.Is(err, models.ErrNotFound):
		return fmt.Errorf("directory sync: no account %q with a directory %q", *account, *name)
	case err != nil:
		var ve *models.ValidationError
		if errors.As(err, &ve) {
			return fmt.Errorf("directory sync: %s", ve.Fields[""])
		}
		return err
	}
	_, err = fmt.Fprintf(stdout, "sync %d of %s: %s\nread %d users: %d created, %d updated, %d disabled, %d deleted, %d unchanged, %d skipped\n",
		ds.ID, *name, ds.Status, ds.Seen, ds.Created, ds.Updated, ds.Disabled, ds.Deleted, ds.Unchanged, ds.Skipped)
	if err != nil {
		return err
	}
	if ds.SkipReasons != "" {
		fmt.Fprintf(stdout, "skipped: %s\n", ds.SkipReasons)
	}
	switch ds.Status {
	case models.SyncBlocked:
		return &exitError{code: exitSyncBlocked, err: fmt.Errorf("directory sync: %s", ds.Error)}
	case models.SyncFailed:
		return fmt.Errorf("directory sync: %s", ds.Error)
	}
	return nil
}
