package directory

import (
	"errors"
	"testing"
)

func TestParseUserFilter(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	tests := []struct {
		in               string
		user, email, ext *string
		bad              bool
	}{
		{in: ``},
		{in: `userName eq "ann@example.com"`, user: str("ann@example.com")},
		{in: `USERNAME EQ "Ann@Example.com"`, user: str("Ann@Example.com")},
		{in: `externalId eq "00u1"`, ext: str("00u1")},
		{in: `emails[type eq "work"].value eq "b@example.com"`, email: str("b@example.com")},
		{in: `userName eq "a@example.com" and externalId eq "x \"q\""`, user: str("a@example.com"), ext: str(`x "q"`)},
		{in: `(userName eq "a@example.com")`, user: str("a@example.com")},
		{in: `externalId eq jyoung`, ext: str("jyoung")},
		{in: `externalId eq jyoung and userName eq "j@example.com"`, ext: str("jyoung"), user: str("j@example.com")},
		{in: `externalId eq )`, bad: true},
		{in: `userName sw "a"`, bad: true},
		{in: `userName eq "a" or externalId eq "b"`, bad: true},
		{in: `displayName eq "a"`, bad: true},
		{in: `userName eq`, bad: true},
		{in: `userName eq "unterminated`, bad: true},
		{in: `emails[type eq "home"].value eq "b@example.com"`, bad: true},
		{in: `userName eq "a@example.com" and userName eq "b@example.com"`, bad: true},
	}
	for _, tt := range tests {
		f, err := ParseUserFilter(tt.in)
		if tt.bad {
			var se *Error
			if !errors.As(err, &se) || se.Type != "invalidFilter" || se.Status != 400 {
				t.Errorf("%q: err %v, want invalidFilter", tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if !eqp(f.UserName, tt.user) || !eqp(f.Email, tt.email) || !eqp(f.ExternalID, tt.ext) {
			t.Errorf("%q: got user %v email %v ext %v", tt.in, deref(f.UserName), deref(f.Email), deref(f.ExternalID))
		}
	}
}

func eqp(a, b *string) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
