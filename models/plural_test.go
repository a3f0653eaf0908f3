package models_test

import (
	"testing"

	"onramp/models"
)

func TestPlural(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		n    int64
		want string
	}{{0, "0 users"}, {1, "1 user"}, {2, "2 users"}, {100000, "100000 users"}} {
		if got := models.Plural(c.n, "user", "users"); got != c.want {
			t.Errorf("%d: %q, want %q", c.n, got, c.want)
		}
	}
	if got := models.Plural(1, "message was", "messages were"); got != "1 message was" {
		t.Errorf("int: %q", got)
	}
}
