// Package admins renders the Administrators page.
package admins
