package views

// PortalPage is what every MyVPN portal page gets: the common Page (title, CSP nonce, CSRF
// token, flashes, routes) plus who is signed in to the portal. The console's Viewer is never set
// on portal pages: an admin's session does not reach the portal.
type PortalPage struct {
	Page
	User    *PortalViewer // nil when signed out
	Account string        // the account name, when known (signed in, or from an activation link)
}

// PortalViewer is the signed-in portal user as pages show them.
type PortalViewer struct {
	Name  string
	Email string
	MFA   bool
}
