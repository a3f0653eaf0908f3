package forms

// PortalLogin is the MyVPN sign-in form.
type PortalLogin struct {
	Account  string `form:"account"`
	Email    string `form:"email"`
	Password string `form:"password"`
	TOTP     string `form:"totp"`
	// Next is the portal page to go to after signing in (web.SafeNext decides whether it may).
	Next string `form:"next"`
}

// Enroll confirms a TOTP enrollment with the first code.
type Enroll struct {
	Pending string `form:"enrollment"`
	TOTP    string `form:"totp"`
}

// RemoveMFA turns MFA off, once confirmed (web.Confirmed), with a current code or the password.
type RemoveMFA struct {
	TOTP     string `form:"totp"`
	Password string `form:"password"`
}
