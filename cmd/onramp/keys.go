package main

import (
	"context"

	"onramp/models/secret"
	"onramp/models/services"
)

// keys derives the keys from ONRAMP_SECRET, refusing a secret that is not the database's
// (services.CheckKeys): every command that seals or opens data goes through it.
func (o *opened) keys(ctx context.Context) (*secret.Keys, error) {
	keys := secret.NewKeys(o.cfg.Secret)
	if err := services.CheckKeys(ctx, o.store, keys); err != nil {
		return nil, err
	}
	return keys, nil
}
