package sso

import (
	"context"
	"errors"

	"onramp/models"
	"onramp/models/store"
)

// PortalUser finds the SDP user a verified identity signs in as (docs/sso.md, "How people are
// matched"):
//
//  1. a user a directory created whose external id equals the provider's subject: the
//     provider's own immutable id (Okta's SCIM externalId is its user id, the same id it puts
//     in sub), so a later change of email at the provider does not lose the match. Two such
//     users (two directories with the same external id) match none;
//  2. otherwise the user with the verified email (Complete has refused an unverified one);
//  3. otherwise, with "create users on first sign-in", a new user of origin SSO.
//
// Anyone else is refused (unknown user), and so is a disabled user, after the provider's
// success. Refusals are *Refusal with their event written.
func (s *Service) PortalUser(ctx context.Context, r *Result) (*models.SDPUser, error) {
	u, err := s.matchUser(ctx, r)
	if err != nil {
		return nil, err
	}
	if u == nil && r.Settings != nil && r.Settings.CreateUsers {
		return s.createUser(ctx, r)
	}
	if u == nil {
		return nil, s.Refuse(ctx, r, "unknown user",
			"There is no VPN user "+r.Identity.Email+" in the account "+r.Account.Name+". Ask your administrator to add you.", nil)
	}
	if u.Status != models.UserEnabled {
		return nil, s.Refuse(ctx, r, "disabled user", "Your account is disabled. Ask your administrator.", u)
	}
	return u, nil
}

func (s *Service) matchUser(ctx context.Context, r *Result) (*models.SDPUser, error) {
	if r.Identity.Subject != "" {
		us, err := s.store.DirectoryUsersByExternalID(ctx, r.Account.ID, r.Identity.Subject)
		if err != nil {
			return nil, err
		}
		if len(us) == 1 {
			return &us[0], nil
		}
	}
	u, err := s.store.UserByEmail(ctx, r.Account.ID, r.Identity.Email)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	return u, err
}

// createUser adds the SDP user of a first sign-in (origin SSO), enabled and not yet active:
// the sign-in that follows activates them.
func (s *Service) createUser(ctx context.Context, r *Result) (*models.SDPUser, error) {
	first, last := r.Identity.GivenName, r.Identity.FamilyName
	if first == "" && last == "" {
		first = r.Identity.Email
	}
	u := &models.SDPUser{AccountID: r.Account.ID, FirstName: first, LastName: last, Email: r.Identity.Email,
		Origin: models.OriginSSO, Status: models.UserEnabled, Activation: models.ActivationNew}
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, models.UserEvent(u, models.EventUser, models.SubUserCreated, models.UserActor(u, r.IP),
			map[string]string{"origin": u.Origin, "via": "single sign-on"}))
	})
	return u, err
}
