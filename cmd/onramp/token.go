package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"onramp/models"
	"onramp/models/apitokens"
)

const tokenUsage = "usage: onramp token create --account NAME --name LABEL --scopes a,b,c [--expires 30d]"

// tokenCmd runs `onramp token create`: it prints a new API token alone on its line (scripts
// capture it; nothing else goes to stdout). The token is attributed to the account's first
// active admin.
func tokenCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New(tokenUsage)
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	account := fs.String("account", "", "account name")
	name := fs.String("name", "", "the token's name")
	scopes := fs.String("scopes", "", "comma-separated scopes: "+strings.Join(scopeNames(), ","))
	expires := fs.String("expires", "", "lifetime: 30d, 12h (default: never)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *account == "" || *name == "" || *scopes == "" {
		return errors.New("token create: --account, --name and --scopes are required\n" + tokenUsage)
	}
	exp, err := apitokens.ParseExpiry(*expires)
	if err != nil {
		return errors.New("token create: --expires: write the lifetime as days (30d) or hours (12h)")
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
	tok, _, err := apitokens.New(o.store, keys).CreateForAccount(ctx, models.NormalizeEmail(*account),
		apitokens.CreateInput{Name: *name, Scopes: strings.Split(*scopes, ","), ExpiresIn: exp})
	if err != nil {
		return accountCommandError("token create", *account, err)
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

func scopeNames() []string {
	out := make([]string, len(models.Scopes))
	for i, s := range models.Scopes {
		out[i] = string(s)
	}
	return out
}
