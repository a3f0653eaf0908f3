package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"onramp/handlers/clientapi"
	"onramp/handlers/scim"
)

// access says who may call a route.
type access int

const (
	public    access = iota // anyone, no session (the probes)
	visitor                 // anyone; the console session is loaded when there is one
	signedIn                // any active admin or helpdesk user
	adminOnly               // role admin
	// The MyVPN portal's levels: its own session (the portal cookie), never the console's.
	portalVisitor // anyone; the portal session is loaded when there is one
	portalUser    // a signed-in portal user; others go to the portal's sign-in page
	// clientAPI is the VPN client API (JSON): no cookies, no CSRF, no console session; /session
	// authenticates with the device token itself.
	clientAPI
	// scimAPI is the SCIM server: a SCIM directory's bearer token on every request, no
	// cookies, no CSRF.
	scimAPI
	// adminAPI is the admin REST API: an API token with the scope its operation declares in
	// handlers/api/openapi.json, no cookies, no CSRF.
	adminAPI
)

type route struct {
	method  string
	path    string
	name    string
	handler echo.HandlerFunc
	access  access
}

// routes is the one route table: every path, its name (views and redirects build URLs from it)
// and who may call it.
func (a audiences) routes() []route {
	con, pt, api, sc, ap := a.console, a.portal, a.client, a.scim, a.api
	return []route{
		{http.MethodGet, "/healthz", "healthz", a.probes.healthz, public},
		{http.MethodGet, "/readyz", "readyz", a.probes.readyz, public},
		{http.MethodHead, "/healthz", "healthz.head", a.probes.healthz, public},
		{http.MethodHead, "/readyz", "readyz.head", a.probes.readyz, public},
		{http.MethodGet, MetricsPath, "metrics", a.metrics, public},
		{http.MethodGet, "/static/*", "static", a.static, public},
		{http.MethodHead, "/static/*", "static.head", a.static, public},

		{http.MethodGet, "/login", "login", con.LoginPage, visitor},
		{http.MethodPost, "/login", "login.submit", con.Login, visitor},
		{http.MethodPost, "/logout", "logout", con.Logout, signedIn},
		{http.MethodGet, "/setup", "setup", con.SetupPage, visitor},
		{http.MethodPost, "/setup", "setup.submit", con.Setup, visitor},
		{http.MethodGet, "/set-password/:token", "password.link", con.PasswordLinkPage, visitor},
		{http.MethodPost, "/set-password/:token", "password.link.submit", con.PasswordLink, visitor},

		{http.MethodGet, "/", "home", con.Home, signedIn},
		{http.MethodGet, "/account/password", "account.password", con.ChangePasswordPage, signedIn},
		{http.MethodPost, "/account/password", "account.password.submit", con.ChangePassword, signedIn},
		{http.MethodGet, "/account/two-step", "account.twostep", con.TwoStepPage, signedIn},
		{http.MethodPost, "/account/two-step", "account.twostep.submit", con.TwoStepConfirm, signedIn},
		{http.MethodPost, "/account/two-step/remove", "account.twostep.remove", con.TwoStepRemove, signedIn},

		{http.MethodGet, "/access/users", "users.list", con.UsersList, signedIn},
		{http.MethodPost, "/access/users", "users.create", con.UsersCreate, adminOnly},
		{http.MethodGet, "/access/users/new", "users.new", con.UsersNew, adminOnly},
		{http.MethodGet, "/access/users/:id", "users.show", con.UsersShow, signedIn},
		{http.MethodGet, "/access/users/:id/edit", "users.edit", con.UsersEdit, adminOnly},
		{http.MethodPost, "/access/users/:id/edit", "users.update", con.UsersUpdate, adminOnly},
		{http.MethodPost, "/access/users/actions", "users.actions", con.UsersActions, signedIn},
		{http.MethodGet, "/access/users/runs/:id", "users.run", con.UsersRun, signedIn},
		{http.MethodPost, "/access/runs/:id/resume", "runs.resume", con.RunResume, adminOnly},
		{http.MethodGet, "/access/users/codes/:id", "users.codes", con.UsersCodes, signedIn},
		{http.MethodGet, "/access/users/codes/:id/codes.csv", "users.codes.csv", con.UsersCodesCSV, signedIn},
		{http.MethodPost, "/access/users/:id/devices/:device/sign-out", "users.device.signout", con.UsersDeviceSignOut, signedIn},
		{http.MethodGet, "/access/devices", "devices.list", con.DevicesList, signedIn},
		{http.MethodPost, "/access/devices/sign-out", "devices.signout", con.DevicesSignOut, signedIn},
		{http.MethodPost, "/access/devices/:device/sign-out", "devices.device.signout", con.DeviceSignOut, signedIn},
		{http.MethodGet, "/access/directory-services/provisioning", "provisioning", con.ProvisioningPage, adminOnly},
		{http.MethodPost, "/access/directory-services/provisioning", "provisioning.save", con.ProvisioningSave, adminOnly},
		{http.MethodGet, "/access/directory-services/provisioning/codes.csv", "provisioning.codes", con.CodesCSV, adminOnly},
		{http.MethodGet, "/access/directory-services/directories", "directories", con.DirectoriesPage, adminOnly},
		{http.MethodPost, "/access/directory-services/directories", "directories.create", con.DirectoryCreate, adminOnly},
		{http.MethodPost, "/access/directory-services/directories/:id/tokens", "directories.token", con.DirectoryToken, adminOnly},
		{http.MethodGet, "/access/directory-services/directories/ldap/new", "directories.ldap.new", con.LDAPNew, adminOnly},
		{http.MethodPost, "/access/directory-services/directories/ldap", "directories.ldap.create", con.LDAPCreate, adminOnly},
		{http.MethodGet, "/access/directory-services/directories/:id/edit", "directories.ldap.edit", con.LDAPEdit, adminOnly},
		{http.MethodPost, "/access/directory-services/directories/:id/edit", "directories.ldap.update", con.LDAPUpdate, adminOnly},
		{http.MethodPost, "/access/directory-services/directories/:id/test", "directories.ldap.test", con.LDAPTest, adminOnly},
		{http.MethodPost, "/access/directory-services/directories/:id/sync", "directories.sync", con.DirectorySyncNow, adminOnly},
		{http.MethodPost, "/access/directory-services/directories/:id/approve", "directories.approve", con.DirectorySyncApprove, adminOnly},
		{http.MethodGet, "/access/directory-services/directories/:id/syncs/:sync", "directories.sync.show", con.DirectorySyncShow, adminOnly},
		{http.MethodPost, "/access/directory-services/directories/:id/tokens/:token/revoke", "directories.token.revoke", con.DirectoryTokenRevoke, adminOnly},
		{http.MethodGet, "/access/directory-services/sso", "sso", con.SSOPage, adminOnly},
		{http.MethodPost, "/access/directory-services/sso", "sso.save", con.SSOSave, adminOnly},
		{http.MethodPost, "/access/directory-services/sso/test", "sso.test", con.SSOTest, adminOnly},
		{http.MethodGet, "/access/directory-services/sso/console", "sso.console", con.ConsoleSSOPage, adminOnly},
		{http.MethodPost, "/access/directory-services/sso/console", "sso.console.save", con.ConsoleSSOSave, adminOnly},
		{http.MethodGet, "/access/client-access", "clientaccess", con.ClientAccessPage, adminOnly},
		{http.MethodPost, "/access/client-access/generate-codes", "clientaccess.generate", con.ClientAccessGenerate, adminOnly},
		{http.MethodGet, "/access/client-access/runs/:id", "clientaccess.run", con.ClientAccessRun, adminOnly},

		{http.MethodGet, "/events", "events", con.EventsList, signedIn},
		{http.MethodGet, "/events.csv", "events.csv", con.EventsCSV, signedIn},
		{http.MethodGet, "/events/:id", "events.show", con.EventsShow, signedIn},

		{http.MethodGet, "/outbox", "outbox", con.OutboxList, adminOnly},
		{http.MethodPost, "/outbox/send-held", "outbox.send_held", con.OutboxSendHeld, adminOnly},
		{http.MethodGet, "/outbox/:id", "outbox.message", con.OutboxMessage, adminOnly},
		{http.MethodGet, "/outbox/:id/html", "outbox.html", con.OutboxHTML, adminOnly},

		{http.MethodGet, "/settings/administrators", "admins.list", con.AdminsList, adminOnly},
		{http.MethodPost, "/settings/administrators", "admins.create", con.AdminsCreate, adminOnly},
		{http.MethodPost, "/settings/administrators/:id/role", "admins.role", con.AdminsRole, adminOnly},
		{http.MethodPost, "/settings/administrators/:id/disable", "admins.disable", con.AdminsDisable, adminOnly},
		{http.MethodPost, "/settings/administrators/:id/enable", "admins.enable", con.AdminsEnable, adminOnly},
		{http.MethodPost, "/settings/administrators/:id/link", "admins.link", con.AdminsLink, adminOnly},
		{http.MethodPost, "/settings/administrators/:id/two-step/remove", "admins.twostep.remove", con.AdminsTwoStepRemove, adminOnly},
		{http.MethodGet, "/settings/api-tokens", "apitokens", con.APITokensList, adminOnly},
		{http.MethodPost, "/settings/api-tokens", "apitokens.create", con.APITokensCreate, adminOnly},
		{http.MethodPost, "/settings/api-tokens/:id/revoke", "apitokens.revoke", con.APITokensRevoke, adminOnly},

		{http.MethodGet, "/settings/event-streaming", "stream", con.StreamPage, adminOnly},
		{http.MethodPost, "/settings/event-streaming", "stream.create", con.StreamCreate, adminOnly},
		{http.MethodGet, "/settings/event-streaming/:id", "stream.show", con.StreamShow, adminOnly},
		{http.MethodPost, "/settings/event-streaming/:id/enable", "stream.enable", con.StreamEnable, adminOnly},
		{http.MethodPost, "/settings/event-streaming/:id/disable", "stream.disable", con.StreamDisable, adminOnly},
		{http.MethodPost, "/settings/event-streaming/:id/delete", "stream.delete", con.StreamDelete, adminOnly},
		{http.MethodPost, "/settings/event-streaming/:id/test", "stream.test", con.StreamTest, adminOnly},
		{http.MethodGet, "/settings/retention", "retention", con.RetentionPage, adminOnly},
		{http.MethodPost, "/settings/retention", "retention.save", con.RetentionSave, adminOnly},

		{http.MethodGet, "/myvpn/activate/:token", "portal.activate", pt.ActivatePage, portalVisitor},
		{http.MethodPost, "/myvpn/activate/:token", "portal.activate.submit", pt.Activate, portalVisitor},
		{http.MethodGet, "/myvpn/login", "portal.login", pt.LoginPage, portalVisitor},
		{http.MethodPost, "/myvpn/login", "portal.login.submit", pt.Login, portalVisitor},
		{http.MethodPost, "/myvpn/logout", "portal.logout", pt.Logout, portalUser},
		{http.MethodGet, "/myvpn", "portal.home", pt.Home, portalUser},
		{http.MethodGet, "/myvpn/password", "portal.password", pt.PasswordPage, portalUser},
		{http.MethodPost, "/myvpn/password", "portal.password.submit", pt.Password, portalUser},
		{http.MethodGet, "/myvpn/mfa", "portal.mfa", pt.MFAPage, portalUser},
		{http.MethodPost, "/myvpn/mfa", "portal.mfa.submit", pt.MFAConfirm, portalUser},
		{http.MethodPost, "/myvpn/mfa/remove", "portal.mfa.remove", pt.MFARemove, portalUser},
		{http.MethodPost, "/myvpn/devices/:device/sign-out", "portal.device.signout", pt.DeviceSignOut, portalUser},

		{http.MethodGet, "/myvpn/sso/start", "portal.sso.start", pt.SSOStart, portalVisitor},
		{http.MethodGet, "/sso/callback", "sso.callback", a.signon.Callback, public},
		{http.MethodGet, "/sso/console/start", "console.sso.start", con.SSOStart, visitor},
		{http.MethodGet, "/sso/client/:link", "sso.client", pt.DeviceSSOPage, portalVisitor},
		{http.MethodPost, "/sso/client/:link", "sso.client.continue", pt.DeviceSSOContinue, portalVisitor},

		{http.MethodGet, "/enroll", "enroll", pt.Enroll, public},

		{http.MethodPost, "/api/v1/client/register", "client.register", api.Register, clientAPI},
		{http.MethodPost, "/api/v1/client/login", "client.login", api.Login, clientAPI},
		{http.MethodGet, "/api/v1/client/session", "client.session", api.Session, clientAPI},
		{http.MethodPost, "/api/v1/client/sso/start", "client.sso.start", api.SSOStart, clientAPI},
		{http.MethodPost, "/api/v1/client/sso/poll", "client.sso.poll", api.SSOPoll, clientAPI},

		{http.MethodGet, "/api/v1/openapi.json", "api.openapi", ap.OpenAPI, public},
		{http.MethodGet, "/api/v1/users", "api.users", ap.ListUsers, adminAPI},
		{http.MethodPost, "/api/v1/users", "api.users.create", ap.CreateUser, adminAPI},
		{http.MethodGet, "/api/v1/users/:id", "api.user", ap.GetUser, adminAPI},
		{http.MethodPatch, "/api/v1/users/:id", "api.user.update", ap.UpdateUser, adminAPI},
		{http.MethodDelete, "/api/v1/users/:id", "api.user.delete", ap.DeleteUser, adminAPI},
		{http.MethodGet, "/api/v1/users/:id/codes", "api.user.codes", ap.UserCodes, adminAPI},
		{http.MethodDelete, "/api/v1/users/:id/codes", "api.user.codes.revoke", ap.RevokeUserCodes, adminAPI},
		{http.MethodPost, "/api/v1/users/actions", "api.users.actions", ap.UsersAction, adminAPI},
		{http.MethodGet, "/api/v1/runs/:id", "api.run", ap.GetRun, adminAPI},
		{http.MethodPost, "/api/v1/codes", "api.codes.generate", ap.GenerateCodes, adminAPI},
		{http.MethodGet, "/api/v1/codes.csv", "api.codes.csv", ap.CodesCSV, adminAPI},
		{http.MethodGet, "/api/v1/devices", "api.devices", ap.ListDevices, adminAPI},
		{http.MethodPost, "/api/v1/devices/:id/sign-out", "api.device.signout", ap.SignOutDevice, adminAPI},
		{http.MethodGet, "/api/v1/events", "api.events", ap.ListEvents, adminAPI},
		{http.MethodGet, "/api/v1/events.ndjson", "api.events.export", ap.ExportEvents, adminAPI},
		{http.MethodGet, "/api/v1/settings/provisioning", "api.provisioning", ap.GetProvisioning, adminAPI},
		{http.MethodPatch, "/api/v1/settings/provisioning", "api.provisioning.update", ap.UpdateProvisioning, adminAPI},
		{http.MethodGet, "/api/v1/webhooks", "api.webhooks", ap.ListWebhooks, adminAPI},
		{http.MethodPost, "/api/v1/webhooks", "api.webhooks.create", ap.CreateWebhook, adminAPI},

		{http.MethodGet, scim.Prefix + "/Users", "scim.users", sc.ListUsers, scimAPI},
		{http.MethodPost, scim.Prefix + "/Users", "scim.users.create", sc.CreateUser, scimAPI},
		{http.MethodGet, scim.Prefix + "/Users/:id", "scim.user", sc.GetUser, scimAPI},
		{http.MethodPut, scim.Prefix + "/Users/:id", "scim.user.replace", sc.ReplaceUser, scimAPI},
		{http.MethodPatch, scim.Prefix + "/Users/:id", "scim.user.patch", sc.PatchUser, scimAPI},
		{http.MethodDelete, scim.Prefix + "/Users/:id", "scim.user.delete", sc.DeleteUser, scimAPI},
		{http.MethodGet, scim.Prefix + "/Groups", "scim.groups", sc.ListGroups, scimAPI},
		{http.MethodPost, scim.Prefix + "/Groups", "scim.groups.create", sc.CreateGroup, scimAPI},
		{http.MethodGet, scim.Prefix + "/Groups/:id", "scim.group", sc.GetGroup, scimAPI},
		{http.MethodPut, scim.Prefix + "/Groups/:id", "scim.group.replace", sc.ReplaceGroup, scimAPI},
		{http.MethodPatch, scim.Prefix + "/Groups/:id", "scim.group.patch", sc.PatchGroup, scimAPI},
		{http.MethodDelete, scim.Prefix + "/Groups/:id", "scim.group.delete", sc.DeleteGroup, scimAPI},
		{http.MethodGet, scim.Prefix + "/ServiceProviderConfig", "scim.spconfig", sc.ServiceProviderConfig, scimAPI},
		{http.MethodGet, scim.Prefix + "/ResourceTypes", "scim.resourcetypes", sc.ResourceTypes, scimAPI},
		{http.MethodGet, scim.Prefix + "/Schemas", "scim.schemas", sc.Schemas, scimAPI},
	}
}

// knownRoute says whether a route pattern is one of the table's (the metrics label routes by
// their pattern, and anything else as unmatched).
func (a audiences) knownRoute() func(string) bool {
	known := map[string]bool{}
	for _, r := range a.routes() {
		known[r.path] = true
	}
	return func(p string) bool { return known[p] }
}

// register adds every route with the middleware of its access level.
func (a audiences) register(e *echo.Echo) {
	levels := map[access][]echo.MiddlewareFunc{
		public:        nil,
		visitor:       {a.console.Anyone},
		signedIn:      {a.console.Require(false)},
		adminOnly:     {a.console.Require(true)},
		portalVisitor: {a.portal.Require(false)},
		portalUser:    {a.portal.Require(true)},
		clientAPI:     {clientapi.NoStore},
		scimAPI:       {a.scim.Authenticate},
		adminAPI:      {a.api.Authenticate},
	}
	for _, r := range a.routes() {
		e.Add(r.method, r.path, r.handler, levels[r.access]...).Name = r.name
	}
}
