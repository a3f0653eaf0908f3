package main

import (
	"context"

	"onramp/models/secret"
	"onramp/models/services"
)

// keys derives the keys from ONRAMP_SECRET (and ONRAMP_SECRET_PREVIOUS during a rotation),
// refusing secrets that are not the database's (services.CheckKeys): every command that seals
// or opens data goes through it.
func (o *opened) keys(ctx context.Context) (*secret.Keys, error) {
	keys := secret.NewKeys(o.cfg.Secret).WithPrevious(o.cfg.SecretPrevious)
	previous, err := services.CheckKeys(ctx, o.store, keys)
	if err != nil {
		return nil, err
	}
	if previous {
		o.log.Warn("the database's key check value is ONRAMP_SECRET_PREVIOUS's: data sealed under it opens, new data is sealed under ONRAMP_SECRET; run `onramp secret reseal` to finish the rotation")
	}
	return keys, nil
}

// keyedServices is keys, then the services built with them.
func (o *opened) keyedServices(ctx context.Context) (*secret.Keys, *services.Services, error) {
	keys, err := o.keys(ctx)
	if err != nil {
		return nil, nil, err
	}
	sv, err := o.services(keys)
	return keys, sv, err
}
