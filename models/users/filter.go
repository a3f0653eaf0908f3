package users

import (
	"net/url"
	"strconv"
	"strings"

	"onramp/models"
	"onramp/models/store"
)

// Filter narrows the Users list; zero values do not filter. It is the one shape of the filter
// from the list's query string or the Actions form (ParseFilter) through the store (its fields
// are the store's) back into links (Query) and hidden fields (Values).
type Filter struct {
	Q            string // a part of the email or of the name; under 3 characters, their prefix
	Status       models.UserStatus
	Origin       string
	Activation   models.Activation
	MFA          string // "yes", "no" or ""
	NeverHadCode bool
	Group        int64  // a directory group's id: its members only
	Sort         string // "newest" (default), "oldest", "name", "email"
}

// Sorts are the orders the list offers, the default first.
var Sorts = []string{"newest", "oldest", "name", "email"}

// The filter's parameter names (the list's query string and the Actions form's fields).
const (
	paramQ            = "q"
	paramStatus       = "status"
	paramOrigin       = "origin"
	paramActivation   = "activation"
	paramMFA          = "mfa"
	paramNeverHadCode = "never_had_code"
	paramGroup        = "group"
	paramSort         = "sort"
	paramAfter        = "after"
	paramBefore       = "before"
)

// ParseFilter reads a filter from request values (get looks one up by name), dropping values
// the list does not know: a hand-edited URL shows the whole list rather than an error.
func ParseFilter(get func(name string) string) Filter {
	f := Filter{Q: strings.TrimSpace(get(paramQ)), Origin: get(paramOrigin)}
	if s := models.UserStatus(get(paramStatus)); s == models.UserEnabled || s == models.UserDisabled {
		f.Status = s
	}
	switch a := models.Activation(get(paramActivation)); a {
	case models.ActivationNew, models.ActivationInvitationSent, models.ActivationRegistered, models.ActivationActive:
		f.Activation = a
	}
	if m := get(paramMFA); m == "yes" || m == "no" {
		f.MFA = m
	}
	if g, err := strconv.ParseInt(get(paramGroup), 10, 64); err == nil && g > 0 {
		f.Group = g
	}
	switch get(paramNeverHadCode) {
	case "1", "on":
		f.NeverHadCode = true
	}
	if s := get(paramSort); s != Sorts[0] {
		for _, known := range Sorts {
			if s == known {
				f.Sort = s
			}
		}
	}
	return f
}

// Active reports whether the filter narrows the list (the order does not).
func (f Filter) Active() bool {
	return f.Q != "" || f.Status != "" || f.Origin != "" || f.Activation != "" || f.MFA != "" || f.NeverHadCode || f.Group != 0
}

// Values is the filter as request values, without the empty ones and the default order:
// what ParseFilter reads back.
func (f Filter) Values() url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set(paramQ, f.Q)
	set(paramStatus, string(f.Status))
	set(paramOrigin, f.Origin)
	set(paramActivation, string(f.Activation))
	set(paramMFA, f.MFA)
	if f.NeverHadCode {
		v.Set(paramNeverHadCode, "1")
	}
	if f.Group != 0 {
		v.Set(paramGroup, strconv.FormatInt(f.Group, 10))
	}
	set(paramSort, f.Sort)
	return v
}

// Query is the list URL's query string for the filter and an optional cursor of the next page
// ("" when there is neither).
func (f Filter) Query(after string) string { return f.query(paramAfter, after) }

// QueryBefore is the list URL's query string for the filter and the cursor of the previous page.
func (f Filter) QueryBefore(before string) string { return f.query(paramBefore, before) }

// After is the page that follows a cursor: the next_cursor of the page before (the admin
// API pages forward only).
func After(cursor string) store.Keyset { return store.Keyset{After: cursor} }

// ParseKeyset reads where the page starts from request values (get looks one up by name).
func ParseKeyset(get func(name string) string) store.Keyset {
	return store.Keyset{After: get(paramAfter), Before: get(paramBefore)}
}

func (f Filter) query(param, cursor string) string {
	v := f.Values()
	if cursor != "" {
		v.Set(param, cursor)
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// Order is the sort order the list shows ("newest" when none is chosen).
func (f Filter) Order() string {
	if f.Sort == "" {
		return Sorts[0]
	}
	return f.Sort
}

// storeFilter is the filter in the store's terms: the same fields, so a field added to one and
// not the other does not compile.
func (f Filter) storeFilter() store.UserFilter { return store.UserFilter(f) }
