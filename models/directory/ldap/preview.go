package ldap

import (
	"context"
	"errors"
	"fmt"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"
)

// ErrFilter is a user filter the server (or the client, before sending it) cannot read.
var ErrFilter = errors.New("the user filter is not a valid LDAP filter")

// CheckFilter says whether f (with or without its outer parentheses) is a filter LDAP can read;
// the error wraps ErrFilter.
func CheckFilter(f string) error {
	f = strings.TrimSpace(f)
	if f == "" {
		return nil
	}
	if !strings.HasPrefix(f, "(") {
		f = "(" + f + ")"
	}
	if _, err := goldap.CompileFilter(f); err != nil {
		return fmt.Errorf("%w: %v", ErrFilter, err)
	}
	return nil
}

// Preview is what Test connection shows: how many users the settings select and the first few
// of them exactly as a sync would import them.
type Preview struct {
	Total  int
	Sample []DirectoryUser
}

// Preview reads every user the filter (and group) selects, counting them and keeping the first
// n. A filter the server refuses wraps ErrFilter; a base DN that does not exist wraps ErrConfig.
func (c *Client) Preview(ctx context.Context, n int) (Preview, error) {
	if err := CheckFilter(c.baseUserFilter()); err != nil {
		return Preview{}, err
	}
	var p Preview
	err := c.Users(ctx, func(u DirectoryUser) error {
		p.Total++
		if len(p.Sample) < n {
			p.Sample = append(p.Sample, u)
		}
		return nil
	})
	switch {
	case goldap.IsErrorWithCode(err, goldap.LDAPResultFilterError):
		return Preview{}, fmt.Errorf("%w: %v", ErrFilter, err)
	case goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject):
		return Preview{}, fmt.Errorf("%w: the base DN %q does not exist on the server (or the bind DN cannot read it)", ErrConfig, c.cfg.BaseDN)
	case err != nil:
		return Preview{}, err
	}
	return p, nil
}

// CheckDN says whether dn is a distinguished name LDAP can read (attribute=value pairs).
func CheckDN(dn string) error {
	_, err := goldap.ParseDN(dn)
	return err
}
