// Package views renders every HTML page and email with templ. Views receive a typed Page and
// their own view model: never a database handle, an echo.Context or a map.
package views

import "strings"

// Page is what every page gets: the request's security tokens, who is signed in, flashes and
// how to build URLs from route names.
type Page struct {
	Title   string
	Nonce   string // CSP nonce for the page's inline elements
	CSRF    string // token for the hidden _csrf field and the X-CSRF-Token header
	Viewer  *Viewer
	Flashes []Flash
	Nav     string // the route name of the navigation entry to highlight
	// Routes builds a URL from a route name and its path parameters.
	Routes func(name string, params ...any) string
}

// URL builds the path of a named route.
func (p Page) URL(name string, params ...any) string { return p.Routes(name, params...) }

// Viewer is the signed-in admin as pages show them.
type Viewer struct {
	Name    string
	Email   string
	Role    string // "admin" or "helpdesk"
	Account string
}

// IsAdmin reports whether the viewer may use admin-only areas.
func (v *Viewer) IsAdmin() bool { return v != nil && v.Role == "admin" }

// Initials are shown in the avatar of the account menu.
func (v *Viewer) Initials() string {
	var b strings.Builder
	for _, w := range strings.Fields(v.Name) {
		for _, r := range w {
			b.WriteRune(r)
			break
		}
		if b.Len() >= 2 {
			break
		}
	}
	if b.Len() == 0 {
		return "?"
	}
	return strings.ToUpper(b.String())
}

// PasswordHint says, under every field where a password is chosen, what the password rules
// (models/password) ask for.
const PasswordHint = "At least 12 characters, and hard to guess: not built on your name, email or account, " +
	"a common password, or a word with a year. A few unrelated words make a good one."

// FlashKind is how a flash message looks.
type FlashKind string

const (
	FlashSuccess FlashKind = "success"
	FlashError   FlashKind = "error"
	FlashInfo    FlashKind = "info"
)

// Flash is a one-time message shown on the next page.
type Flash struct {
	Kind    FlashKind
	Message string
}

// NavItem is one entry of the console's navigation.
type NavItem struct {
	Route string
	Label string
	Icon  string
}

// NavSection groups entries under a heading.
type NavSection struct {
	Heading string
	Items   []NavItem
}

// Navigation lists the areas that exist, as the viewer may see them.
func (p Page) Navigation() []NavSection {
	sections := []NavSection{{Items: []NavItem{{Route: "home", Label: "Overview", Icon: "home"}}}}
	access := NavSection{Heading: "Access", Items: []NavItem{{Route: "users.list", Label: "Users", Icon: "users"},
		{Route: "devices.list", Label: "Devices", Icon: "device"}}}
	if p.Viewer.IsAdmin() {
		access.Items = append(access.Items, NavItem{Route: "provisioning", Label: "Directory Services", Icon: "directory"})
		access.Items = append(access.Items, NavItem{Route: "clientaccess", Label: "Client Access", Icon: "key"})
	}
	sections = append(sections, access)
	monitoring := NavSection{Heading: "Monitoring", Items: []NavItem{{Route: "events", Label: "Events", Icon: "activity"}}}
	if p.Viewer.IsAdmin() {
		// Email bodies hold one-time links: the outbox is for admins only.
		monitoring.Items = append(monitoring.Items, NavItem{Route: "outbox", Label: "Outbox", Icon: "mail"})
	}
	sections = append(sections, monitoring)
	if p.Viewer.IsAdmin() {
		sections = append(sections, NavSection{Heading: "Settings", Items: []NavItem{{Route: "admins.list", Label: "Administrators", Icon: "shield"},
			{Route: "apitokens", Label: "API tokens", Icon: "key"}, {Route: "stream", Label: "Event streaming", Icon: "stream"},
			{Route: "retention", Label: "Data Retention", Icon: "archive"}}})
	}
	return sections
}
