// Package auth renders the sign-in, first-run setup, password and two-step verification pages.
package auth
