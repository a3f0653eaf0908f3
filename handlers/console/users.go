package console

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"onramp/handlers/forms"
	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/events"
	"onramp/models/users"
	"onramp/views"
	"onramp/views/components"
	userpages "onramp/views/pages/users"
)

func actionItems(role models.Role) []userpages.ActionItem {
	var out []userpages.ActionItem
	for _, a := range users.Actions {
		if a.Allowed(role) {
			out = append(out, userpages.ActionItem{Value: string(a), Label: a.Label(), Danger: a.Destructive()})
		}
	}
	return out
}

// UsersList serves GET /access/users.
func (h *Handler) UsersList(c echo.Context) error {
	f := users.ParseFilter(c.QueryParam)
	at := users.ParseKeyset(c.QueryParam)
	cur := current(c)
	ctx := c.Request().Context()
	page, err := h.Users.List(ctx, cur.Admin, f, at)
	if err != nil {
		return err
	}
	origins, err := h.Users.Origins(ctx, cur.Admin)
	if err != nil {
		return err
	}
	groups, err := h.Users.Groups(ctx, cur.Admin)
	if err != nil {
		return err
	}
	invs, err := h.Users.Invitations(ctx, cur.Admin, page.Users)
	if err != nil {
		return err
	}
	list, show := c.Echo().Reverse("users.list"), web.IDURLs(c.Echo(), "users.show")
	v := userpages.List{Filter: f, Origins: origins, Actions: actionItems(cur.Admin.Role), CanCreate: cur.Admin.Role == models.RoleAdmin}
	for _, g := range groups {
		v.Groups = append(v.Groups, userpages.GroupOption{ID: strconv.FormatInt(g.ID, 10), Name: g.DisplayName})
	}
	for i := range page.Users {
		u := &page.Users[i]
		v.Rows = append(v.Rows, userpages.Row{ID: u.ID, Name: u.FullName(), Email: u.Email, Origin: models.OriginLabel(u.Origin), Status: string(u.Status),
			Activation: activationOf(u, invs, "", current(c).Account.SSOEnabled), MFA: u.MFAConfigured, ActiveCodes: u.ActiveCodes,
			Devices: u.Devices, Created: u.CreatedAt.UTC().Format(web.TimeLayout), CreatedISO: u.CreatedAt.UTC().Format(web.ISOLayout),
			URL: show(u.ID)})
	}
	if page.Prev != "" {
		v.Pagination.FirstURL = list + f.Query("")
		v.Pagination.PrevURL = list + f.QueryBefore(page.Prev)
	}
	if page.Next != "" {
		v.Pagination.NextURL = list + f.Query(page.Next)
	}
	if n := len(v.Rows); n > 0 {
		v.Pagination.Summary = "Showing " + models.Plural(n, "user", "users")
	}
	v.Total = usersTotal(page.Total, page.More, f.Active())
	run, err := h.Users.OpenRun(ctx, cur.Admin)
	if err != nil {
		return err
	}
	if run != nil {
		v.Running = &userpages.RunningAction{Label: actionRunTitle(run), Percent: run.Percent(), URL: c.Echo().Reverse("users.run", run.ID)}
	}
	return web.Render(c, http.StatusOK, userpages.ListPage(h.page(c, "Users", "users.list"), v))
}

// activationOf is a user's activation as pages show it: Registered for a user with a device, and
// for an invited user the delivery state of the newest invitation among invs (outbox links to
// it, "" when the viewer may not open the outbox). With single sign-on on (sso), a new user
// is waiting for their first SSO sign-in, which activates them.
func activationOf(u *models.SDPUser, invs map[int64]models.UserMail, outbox string, sso bool) userpages.Activation {
	p := u.Progress()
	v := userpages.Activation{State: string(p), Label: p.Label()}
	if sso && p == models.ActivationNew {
		v.Label = "Waiting for first SSO sign-in"
	}
	if inv, ok := invs[u.ID]; ok && p == models.ActivationInvitationSent {
		v.Label, v.Mail, v.OutboxURL = models.InvitationLabel(inv.Status), string(inv.Status), outbox
	}
	return v
}

// usersTotal says how many users the list's filter matches: "120 users", "12 users match",
// "10,000+ users" past the count's cap.
func usersTotal(n int64, more, filtered bool) string {
	text := countText(n, more) + " users"
	if n == 1 && !more {
		text = "1 user"
	}
	switch {
	case !filtered:
		return text
	case n == 1 && !more:
		return text + " matches"
	}
	return text + " match"
}

// UsersNew serves GET /access/users/new.
func (h *Handler) UsersNew(c echo.Context) error {
	return h.renderNewUser(c, http.StatusOK, userpages.NewForm{})
}

func (h *Handler) renderNewUser(c echo.Context, status int, f userpages.NewForm) error {
	account, err := h.Users.Account(c.Request().Context(), current(c).Admin)
	if err != nil {
		return err
	}
	f.Invites = account.InvitesNewManualUsers()
	f.Held = !h.Outbox.Delivering()
	f.Codes = account.ProvisioningMethod == models.MethodRegistrationCode
	return web.Render(c, status, userpages.NewPage(h.page(c, "New user", "users.list"), f))
}

// UsersCreate serves POST /access/users.
func (h *Handler) UsersCreate(c echo.Context) error {
	var f forms.NewUser
	if err := c.Bind(&f); err != nil {
		return err
	}
	created, err := h.Users.Create(c.Request().Context(), current(c).Admin, c.RealIP(),
		users.CreateInput{FirstName: f.FirstName, LastName: f.LastName, Email: f.Email, Phone: f.Phone})
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		return h.renderNewUser(c, http.StatusUnprocessableEntity, userpages.NewForm{FirstName: f.FirstName, LastName: f.LastName,
			Email: f.Email, Phone: f.Phone, Errors: ve.Fields})
	case err != nil:
		return err
	}
	u := created.User
	if created.HandoutID != 0 { // Registration Code method: the new code, shown once
		return h.flashRedirect(c, views.FlashSuccess, u.FullName()+" is created with a registration code.",
			c.Echo().Reverse("users.codes", created.HandoutID))
	}
	msg := u.FullName() + " is created."
	switch {
	case u.Activation != models.ActivationInvitationSent:
	case h.Outbox.Delivering():
		msg = u.FullName() + " is created and an invitation email is queued for delivery."
	default:
		msg = u.FullName() + " is created; the invitation email is held in the outbox (no SMTP server is configured)."
	}
	return h.flashRedirect(c, views.FlashSuccess, msg, c.Echo().Reverse("users.show", u.ID))
}

// UsersShow serves GET /access/users/:id.
func (h *Handler) UsersShow(c echo.Context) error {
	id, err := web.ID(c, "id")
	if err != nil {
		return err
	}
	cur := current(c)
	ctx := c.Request().Context()
	u, err := h.Users.Get(ctx, cur.Admin, id)
	if err != nil {
		return err
	}
	evs, err := h.Users.Events(ctx, cur.Admin, id, 50)
	if err != nil {
		return err
	}
	invs, err := h.Users.Invitations(ctx, cur.Admin, []models.SDPUser{*u})
	if err != nil {
		return err
	}
	outbox := ""
	if inv, ok := invs[u.ID]; ok && cur.Admin.Role == models.RoleAdmin { // the outbox is for admins (routes.go)
		outbox = c.Echo().Reverse("outbox.message", inv.ID)
	}
	v := userpages.Show{ID: u.ID, Name: u.FullName(), FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, Phone: u.Phone,
		Origin: models.OriginLabel(u.Origin), ManagedBy: u.ManagedBy(), Status: string(u.Status), Activation: activationOf(u, invs, outbox, current(c).Account.SSOEnabled), MFA: u.MFAConfigured,
		ActiveCodes: u.ActiveCodes, Devices: u.Devices, Created: u.CreatedAt.UTC().Format(web.TimeLayout),
		Updated: u.UpdatedAt.UTC().Format(web.TimeLayout), Actions: actionItems(cur.Admin.Role)}
	if v.ManagedBy != "" { // the directory sets the status: Disable and Enable would be refused
		v.Actions = slices.DeleteFunc(v.Actions, func(a userpages.ActionItem) bool {
			return a.Value == string(users.ActionDisable) || a.Value == string(users.ActionEnable)
		})
	}
	if cur.Admin.Role == models.RoleAdmin {
		v.EditURL = c.Echo().Reverse("users.edit", u.ID)
	}
	groups, err := h.Users.UserGroups(ctx, cur.Admin, u.ID)
	if err != nil {
		return err
	}
	for _, g := range groups {
		v.Groups = append(v.Groups, g.DisplayName)
	}
	for _, e := range evs {
		r := eventRow(e)
		v.Events = append(v.Events, userpages.EventRow{Time: r.Time, ISOTime: r.ISOTime, What: r.What, Actor: r.Actor, IP: r.IP,
			Details: events.DetailsText(e.Details)})
	}
	if v.DeviceList, err = h.userDeviceRows(c, u.ID); err != nil { // devices.go
		return err
	}
	cs, err := h.Codes.UserCodes(ctx, cur.Admin, u.ID)
	if err != nil {
		return err
	}
	v.Codes = codeRows(cs, h.Codes.Now()) // codes.go
	return web.Render(c, http.StatusOK, userpages.ShowPage(h.page(c, u.FullName(), "users.list"), v))
}

// UsersActions runs the confirm-then-do pattern for the Actions menu: without confirm=1 it
// answers with a warning that says what will happen to how many users; with it, it acts.
func (h *Handler) UsersActions(c echo.Context) error {
	var f forms.BulkAction
	if err := c.Bind(&f); err != nil {
		return err
	}
	cur := current(c)
	ctx := c.Request().Context()
	a := users.Action(f.Action)
	if !a.Valid() {
		return echo.NewHTTPError(http.StatusBadRequest, "Choose an action from the menu.")
	}
	if !a.Allowed(cur.Admin.Role) {
		return echo.NewHTTPError(http.StatusForbidden, "Your role cannot "+strings.ToLower(a.Label())+" users.")
	}
	sel := users.Selection{IDs: f.IDs, All: f.AllMatching == "1", Filter: users.ParseFilter(c.FormValue)}
	back := c.Echo().Reverse("users.list") + sel.Filter.Query("")
	if f.Back == "user" && len(f.IDs) == 1 {
		back = c.Echo().Reverse("users.show", f.IDs[0])
	}
	if !sel.All && len(sel.IDs) == 0 {
		return h.flashRedirect(c, views.FlashError, "Select at least one user, or tick \"All users\", then choose an action.", back)
	}
	if !web.Confirmed(c) {
		pv, err := h.Users.Preview(ctx, cur.Admin, sel)
		if err != nil {
			return err
		}
		n := pv.Count
		if n == 0 {
			return models.ErrNotFound
		}
		account, err := h.Users.Account(ctx, cur.Admin)
		if err != nil {
			return err
		}
		fields := []components.Hidden{{Name: "action", Value: string(a)}, {Name: "back", Value: f.Back}}
		if sel.All {
			fields = append(fields, components.Hidden{Name: "all_matching", Value: "1"})
		} else {
			for _, id := range sel.IDs {
				fields = append(fields, components.Hidden{Name: "ids", Value: strconv.FormatInt(id, 10)})
			}
		}
		fields = append(fields, userpages.FilterFields(sel.Filter)...)
		msg := a.Warning(n, account)
		if a.Mails(account) && !h.Outbox.Delivering() {
			msg += " No SMTP server is configured: the emails are held in the outbox."
		}
		if sel.All && n > users.InRequestLimit {
			msg += fmt.Sprintf(" It runs in the background, %d users at a time, and you can follow its progress.", users.InRequestLimit)
		}
		p := components.ConfirmProps{
			Title:        fmt.Sprintf("%s: %s?", a.Label(), models.Plural(n, "user", "users")),
			Message:      msg,
			Action:       c.Echo().Reverse("users.actions"),
			ConfirmLabel: a.Label(),
			CancelURL:    back,
			Danger:       a.Destructive(),
			Fields:       fields,
			Subjects:     pv.Names,
		}
		if more := pv.More(); more > 0 {
			p.More = fmt.Sprintf("and %d more", more)
		}
		if a.SignsOutDevices() {
			p.Note = users.DevicesWarning(pv)
		}
		return h.askConfirm(c, p, "users.list", "Users")
	}
	out, err := h.Users.Perform(ctx, cur.Admin, c.RealIP(), a, sel)
	if errors.Is(err, users.ErrActionInProgress) && out.Run != nil {
		return h.flashRedirect(c, views.FlashError, "Another action on many users is still running: wait for it to end, then confirm this one again.", c.Echo().Reverse("users.run", out.Run.ID))
	}
	if err != nil {
		return err
	}
	if out.Run != nil {
		return web.Redirect(c, c.Echo().Reverse("users.run", out.Run.ID))
	}
	if out.Result.HandoutID != 0 { // the codes just generated, shown once
		return web.Redirect(c, c.Echo().Reverse("users.codes", out.Result.HandoutID))
	}
	if a == users.ActionDelete && f.Back == "user" {
		back = c.Echo().Reverse("users.list")
	}
	return h.flashRedirect(c, views.FlashSuccess, h.resultMessage(a, out.Result), back)
}

// actionRunTitle names a background action: "Disable: 100000 users".
func actionRunTitle(run *models.Run) string {
	return users.Action(run.Action).Label() + ": " + models.Plural(run.Total, "user", "users")
}

// UsersRun follows an action running in the background: the page, or for htmx the progress
// block it polls every second until the run ends.
func (h *Handler) UsersRun(c echo.Context) error {
	id, err := web.ID(c, "id")
	if err != nil {
		return err
	}
	run, err := h.Users.Run(c.Request().Context(), current(c).Admin, id)
	if err != nil {
		return err
	}
	a := users.Action(run.Action)
	self := c.Echo().Reverse("users.run", run.ID)
	v := userpages.ActionRun{
		Title: actionRunTitle(run),
		Run: runView(c, run, "user-run", "Progress", fmt.Sprintf("%d of %s done (%d%%).", run.Done, models.Plural(run.Total, "user", "users"), run.Percent()),
			self, self),
		BackURL: c.Echo().Reverse("users.list"),
	}
	if run.Status == models.RunDone || run.Status == models.RunFailed {
		v.Result = h.resultMessage(a, users.Result{Affected: run.Affected, Skipped: run.Skipped()})
		if v.CodesURL, err = h.runHandoutURL(c, a, run); err != nil {
			return err
		}
	}
	if web.IsHTMX(c) {
		return web.Render(c, http.StatusOK, userpages.ActionRunStatus(v))
	}
	return web.Render(c, http.StatusOK, userpages.ActionRunPage(h.page(c, v.Title, "users.list"), v))
}

// resultMessage says what an action did; of invitations, whether they are on their way or held.
func (h *Handler) resultMessage(a users.Action, r users.Result) string {
	resent := "A new invitation is queued for delivery to %s."
	if !h.Outbox.Delivering() {
		resent = "A new invitation for %s is held in the outbox (no SMTP server is configured)."
	}
	done := map[users.Action]string{
		users.ActionGenerateCode:     "Generated a registration code for %s.",
		users.ActionEmailCode:        "Generated and emailed a registration code to %s.",
		users.ActionResendInvitation: resent,
		users.ActionResetPassword:    "Password reset for %s.",
		users.ActionDisable:          "Disabled %s.",
		users.ActionEnable:           "Enabled %s.",
		users.ActionDelete:           "Deleted %s.",
		users.ActionRemoveMFA:        "Removed MFA from %s.",
	}[a]
	msg := fmt.Sprintf(done, models.Plural(r.Affected, "user", "users"))
	switch {
	case r.Skipped > 0 && a.HandsOutCodes():
		msg += fmt.Sprintf(" %d skipped (disabled users and users with MFA get no code).", r.Skipped)
	case r.Skipped > 0 && a == users.ActionRemoveMFA:
		msg += fmt.Sprintf(" %d skipped (no MFA configured).", r.Skipped)
	case r.SkippedDirectory > 0:
		msg += fmt.Sprintf(" %s skipped: managed by a directory, which sets their status (change it there).",
			models.Plural(r.SkippedDirectory, "user", "users"))
		if other := r.Skipped - r.SkippedDirectory; other > 0 {
			msg += fmt.Sprintf(" %d more skipped (already in that state).", other)
		}
	case r.Skipped > 0 && (a == users.ActionDisable || a == users.ActionEnable):
		msg += fmt.Sprintf(" %d skipped (already in that state, or managed by a directory).", r.Skipped)
	case r.Skipped > 0:
		msg += fmt.Sprintf(" %d skipped (not eligible or already in that state).", r.Skipped)
	}
	return msg
}

// runHandoutURL is the page of the codes a finished background action generated, for the admin
// who started it ("" for the others, and once taken).
func (h *Handler) runHandoutURL(c echo.Context, a users.Action, run *models.Run) (string, error) {
	if !a.HandsOutCodes() {
		return "", nil
	}
	ho, err := h.Codes.HandoutForRun(c.Request().Context(), current(c).Admin, run.ID)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return "", nil
	case err != nil:
		return "", err
	case ho.DownloadedAt != nil:
		return "", nil
	}
	return c.Echo().Reverse("users.codes", ho.ID), nil
}
