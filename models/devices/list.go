package devices

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"onramp/models"
	"onramp/models/store"
)

// The account's Devices page (Access > Devices): every device with its user, filters, keyset
// pages, and signing out one device or a selection, by admins and helpdesk staff.

// PageSize is how many devices a page of the list holds.
const PageSize = 50

// MaxSelection caps the devices one sign-out takes (a page's selection is at most PageSize).
const MaxSelection = 1000

// Filter narrows the Devices list; zero values do not filter.
type Filter struct {
	State    string // "active", "signed_out" or ""
	Platform string
	Via      string // models.ViaCode, models.ViaPassword or ""
	Q        string // a part of the device's name or of its user's email
}

// The filter's parameter names (the list's query string and the sign-out forms' fields).
const (
	paramState    = "state"
	paramPlatform = "platform"
	paramVia      = "via"
	paramQ        = "q"
	paramAfter    = "after"
	paramBefore   = "before"
)

// ParseFilter reads a filter from request values (get looks one up by name), dropping values
// the list does not know.
func ParseFilter(get func(name string) string) Filter {
	f := Filter{Platform: strings.TrimSpace(get(paramPlatform)), Q: strings.TrimSpace(get(paramQ))}
	if s := get(paramState); s == "active" || s == "signed_out" {
		f.State = s
	}
	if v := get(paramVia); v == models.ViaCode || v == models.ViaPassword {
		f.Via = v
	}
	return f
}

// After is the page that follows a cursor: the next_cursor of the page before (the admin
// API pages forward only).
func After(cursor string) store.Keyset { return store.Keyset{After: cursor} }

// ParseKeyset reads where the page starts from request values.
func ParseKeyset(get func(name string) string) store.Keyset {
	return store.Keyset{After: get(paramAfter), Before: get(paramBefore)}
}

// Active reports whether the filter narrows the list.
func (f Filter) Active() bool { return f != Filter{} }

// Values is the filter as request values, without the empty ones.
func (f Filter) Values() url.Values {
	v := url.Values{}
	for k, val := range map[string]string{paramState: f.State, paramPlatform: f.Platform, paramVia: f.Via, paramQ: f.Q} {
		if val != "" {
			v.Set(k, val)
		}
	}
	return v
}

// Query is the list URL's query string for the filter, with the cursor of the next page (after)
// or of the previous one (before), "" when there is nothing to say.
func (f Filter) Query(after, before string) string {
	v := f.Values()
	if after != "" {
		v.Set(paramAfter, after)
	}
	if before != "" {
		v.Set(paramBefore, before)
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// Listed is a device with its user.
type Listed struct {
	Device models.Device
	User   models.SDPUser
}

// Page is one page of the Devices list.
type Page struct {
	Devices    []Listed
	Next, Prev string // cursors of the pages after and before, "" when there is none
}

// List returns a page of the admin's account's devices, newest first.
func (s *Service) List(ctx context.Context, admin *models.Admin, f Filter, at store.Keyset) (Page, error) {
	p, err := s.store.ListDevices(ctx, admin.AccountID, store.DeviceFilter(f), at, PageSize)
	if err != nil {
		return Page{}, err
	}
	ls, err := s.withUsers(ctx, admin.AccountID, p.Devices)
	return Page{Devices: ls, Next: p.Next, Prev: p.Prev}, err
}

// Platforms lists the platforms of the account's devices, for the filter.
func (s *Service) Platforms(ctx context.Context, admin *models.Admin) ([]string, error) {
	return s.store.DevicePlatforms(ctx, admin.AccountID)
}

// Selected loads the admin's account's devices among ids, with their users, newest first: for
// the warning before they are signed out. An id that is not one of the account's devices is
// models.ErrNotFound (the ids come from the account's own list).
func (s *Service) Selected(ctx context.Context, admin *models.Admin, ids []int64) ([]Listed, error) {
	ids, err := selection(ids)
	if err != nil {
		return nil, err
	}
	ds, err := s.store.DevicesByIDs(ctx, admin.AccountID, ids)
	if err != nil {
		return nil, err
	}
	if len(ds) != len(ids) {
		return nil, models.ErrNotFound
	}
	return s.withUsers(ctx, admin.AccountID, ds)
}

// SignOutSelected ends the credentials of the admin's account's devices among ids (admins and
// helpdesk staff both may): one Signed Out event each. Devices signed out already are skipped
// and counted; an id that is not one of the account's devices is models.ErrNotFound and
// nothing changes.
func (s *Service) SignOutSelected(ctx context.Context, admin *models.Admin, ip string, ids []int64) (signedOut, skipped int, err error) {
	ids, err = selection(ids)
	if err != nil {
		return 0, 0, err
	}
	who := models.AdminActor(admin, ip)
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		ds, err := tx.DevicesByIDs(ctx, admin.AccountID, ids)
		if err != nil {
			return err
		}
		if len(ds) != len(ids) {
			return models.ErrNotFound
		}
		var active, owners []int64
		for _, d := range ds {
			if d.Active() {
				active = append(active, d.ID)
				owners = append(owners, d.SDPUserID)
			}
		}
		// The users' rows first (locked on PostgreSQL), then the devices': the order Disable
		// and Reset password take them in, so that they never deadlock.
		slices.Sort(owners)
		us, err := tx.UsersByIDs(ctx, admin.AccountID, slices.Compact(owners))
		if err != nil {
			return err
		}
		revoked, err := tx.RevokeDevices(ctx, admin.AccountID, active, s.now(), ReasonAdmin)
		if err != nil {
			return err
		}
		signedOut, skipped = len(revoked), len(ids)-len(revoked)
		return tx.CreateEvents(ctx, signedOutEvents(us, revoked, ReasonAdmin, who))
	})
	return signedOut, skipped, err
}

// selection drops repeated ids and refuses a selection larger than MaxSelection.
func selection(ids []int64) ([]int64, error) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > MaxSelection {
		return nil, models.NewValidationError("ids", fmt.Sprintf("Select at most %d devices at a time.", MaxSelection))
	}
	return ids, nil
}

// withUsers pairs devices with their users (read in one query).
func (s *Service) withUsers(ctx context.Context, accountID int64, ds []models.Device) ([]Listed, error) {
	ids := make([]int64, 0, len(ds))
	for _, d := range ds {
		ids = append(ids, d.SDPUserID)
	}
	slices.Sort(ids)
	us, err := s.store.UsersOf(ctx, accountID, slices.Compact(ids))
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]models.SDPUser, len(us))
	for _, u := range us {
		byID[u.ID] = u
	}
	out := make([]Listed, len(ds))
	for i, d := range ds {
		out[i] = Listed{Device: d, User: byID[d.SDPUserID]}
	}
	return out, nil
}
