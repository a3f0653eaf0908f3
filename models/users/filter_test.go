package users_test

import (
	"net/url"
	"testing"

	"onramp/models"
	"onramp/models/users"
)

func TestFilterRoundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		query string
		want  users.Filter
		back  string // the query the filter writes back ("" for none)
	}{
		{"", users.Filter{}, ""},
		{"q=+nora+&status=disabled&origin=directory%3Aad&activation=new&mfa=yes&never_had_code=1&sort=name",
			users.Filter{Q: "nora", Status: models.UserDisabled, Origin: "directory:ad", Activation: models.ActivationNew, MFA: "yes", NeverHadCode: true, Sort: "name"},
			"?activation=new&mfa=yes&never_had_code=1&origin=directory%3Aad&q=nora&sort=name&status=disabled"},
		// A ticked checkbox sends "on"; the default order is not written back.
		{"never_had_code=on&sort=newest", users.Filter{NeverHadCode: true}, "?never_had_code=1"},
		{"group=12", users.Filter{Group: 12}, "?group=12"},
		// Values the list does not know are dropped, not errors.
		{"status=deleted&activation=sleepy&mfa=maybe&sort=random&never_had_code=yes&group=-1", users.Filter{}, ""},
		{"group=x", users.Filter{}, ""},
	} {
		v, err := url.ParseQuery(c.query)
		if err != nil {
			t.Fatal(err)
		}
		f := users.ParseFilter(v.Get)
		if f != c.want {
			t.Errorf("%q: parsed %+v, want %+v", c.query, f, c.want)
		}
		if got := f.Query(""); got != c.back {
			t.Errorf("%q: query %q, want %q", c.query, got, c.back)
		}
		if again := users.ParseFilter(f.Values().Get); again != f {
			t.Errorf("%q: Values do not read back: %+v", c.query, again)
		}
		if f.Active() != (f != users.Filter{} && f != users.Filter{Sort: f.Sort}) {
			t.Errorf("%q: Active() = %v", c.query, f.Active())
		}
	}
	if got := (users.Filter{Q: "a"}).Query("MTIz"); got != "?after=MTIz&q=a" {
		t.Errorf("with a cursor: %q", got)
	}
}
