package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"onramp/models"
	"onramp/models/sso"
)

const ssoUsage = "usage: onramp sso set --account NAME --issuer URL --client-id ID [--create-users] (client secret on stdin)"

// ssoCmd is `onramp sso set`: connect an account's OpenID provider and turn single sign-on on.
func ssoCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "set" {
		return errors.New(ssoUsage)
	}
	fs := flag.NewFlagSet("sso set", flag.ContinueOnError)
	fs.SetOutput(stderr)
	account := fs.String("account", "", "account name")
	issuer := fs.String("issuer", "", "the provider's issuer URL")
	clientID := fs.String("client-id", "", "the client ID the provider gave Onramp")
	createUsers := fs.Bool("create-users", false, "create SDP users on their first sign-in")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *account == "" || *issuer == "" || *clientID == "" {
		return errors.New("sso set: --account, --issuer and --client-id are required\n" + ssoUsage)
	}
	clientSecret, err := readPassword(stdin, stderr)
	if err != nil {
		return fmt.Errorf("sso set: the client secret: %w", err)
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
	svc := sso.New(o.store, keys, sso.Config{BaseURL: o.cfg.BaseURL})
	d, err := svc.Set(ctx, *account, models.Actor{Type: models.ActorSystem, Label: "command line"}, *issuer, *clientID, clientSecret, *createUsers)
	if err != nil {
		return accountCommandError("sso set", *account, err)
	}
	pkce := "yes"
	if !d.PKCES256 {
		pkce = "not announced"
	}
	_, err = fmt.Fprintf(stdout, "single sign-on is on for %s\nissuer: %s\nPKCE S256: %s\nredirect URI to register at the provider: %s\n",
		strings.ToLower(*account), d.Issuer, pkce, svc.RedirectURI())
	return err
}
