// Package portal renders the MyVPN end-user portal: activation, sign-in, the home page,
// password change and two-step verification (TOTP).
package portal
