package models

import (
	"regexp"
	"time"
)

// Account is a tenant: every other row belongs to one.
type Account struct {
	ID        int64
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

var accountNameRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$`)

// ValidateAccountName checks the slug users type on the portal sign-in.
func ValidateAccountName(name string) string {
	if name == "" {
		return "Enter an account name."
	}
	if !accountNameRE.MatchString(name) {
		return "Use 1 to 40 lowercase letters, digits or hyphens, starting and ending with a letter or digit."
	}
	return ""
}
