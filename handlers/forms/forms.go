// Package forms holds the HTML forms' fields (bound from the request by their form tags) and the
// checks that belong to the form itself rather than to a service, such as a repeated password.
package forms

import "onramp/models"

// Login is the admin sign-in form; totp is the authenticator code of admins with two-step
// verification.
type Login struct {
	Email    string `form:"email"`
	Password string `form:"password"`
	TOTP     string `form:"totp"`
	// Next is the page to go to after signing in (web.SafeNext decides whether it may).
	Next string `form:"next"`
}

// Setup is the first-run form.
type Setup struct {
	Account  string `form:"account"`
	Email    string `form:"email"`
	Name     string `form:"name"`
	Password string `form:"password"`
}

// NewPassword is a password typed twice.
type NewPassword struct {
	Current  string `form:"current_password"`
	Password string `form:"password"`
	Confirm  string `form:"password_confirm"`
}

// Validate checks that both copies match.
func (f NewPassword) Validate() error {
	if f.Password != f.Confirm {
		return models.NewValidationError("password_confirm", "The two passwords are not the same.")
	}
	return nil
}

// AddAdmin is the Administrators page's add form.
type AddAdmin struct {
	Email string `form:"email"`
	Name  string `form:"name"`
	Role  string `form:"role"`
}

// AdminAction is a confirmable action on one admin (web.Confirmed says whether the warning was
// accepted).
type AdminAction struct {
	Role string `form:"role"`
}

// ConsoleSSO is the console sign-in form of the Single Sign-On tab; checkboxes are "on" when
// ticked, BreakGlass the ids of the admins ticked.
type ConsoleSSO struct {
	Enabled        string   `form:"console_sso"`
	PasswordSignIn string   `form:"password_sign_in"`
	CreateAdmins   string   `form:"create_admins"`
	AdminGroups    string   `form:"admin_groups"`
	HelpdeskGroups string   `form:"helpdesk_groups"`
	BreakGlass     []string `form:"break_glass"`
}

// APIToken is the API tokens page's create form: scopes are checkboxes, expires one of the
// page's lifetimes ("" for never).
type APIToken struct {
	Name    string   `form:"name"`
	Scopes  []string `form:"scopes"`
	Expires string   `form:"expires"`
}
