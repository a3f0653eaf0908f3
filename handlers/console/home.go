package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/events"
	"onramp/views/pages/home"
)

// Home serves GET /.
func (h *Handler) Home(c echo.Context) error {
	cur := current(c)
	ov, err := h.Events.Overview(c.Request().Context(), cur.Admin, 10)
	if err != nil {
		return err
	}
	admin := cur.Admin.Role == models.RoleAdmin
	v := home.Overview{AccountName: cur.Account.Name, Admins: ov.ActiveAdmins, Steps: h.steps(c, cur.Account.Name, ov.Counts, admin),
		Groups: h.countGroups(c, ov.Counts, admin)}
	for _, s := range v.Steps {
		if s.Done {
			v.StepsDone++
		}
	}
	for _, e := range ov.Recent {
		v.Events = append(v.Events, eventRow(e))
	}
	return web.Render(c, http.StatusOK, home.Page(h.page(c, "Overview", "home"), v))
}

// steps are the Getting started steps the viewer's role can take, each ticked from the
// account's data.
func (h *Handler) steps(c echo.Context, account string, n events.Counts, admin bool) []home.Step {
	url := c.Echo().Reverse
	out := []home.Step{{Key: "account", Done: true, Text: "Account " + account + " created."}}
	if admin {
		out = append(out,
			home.Step{Key: "colleagues", Done: n.Admins > 1, Text: "Invite your colleagues from", Link: url("admins.list"), Name: "Administrators",
				More: ": admins run the account, helpdesk staff help users."},
			home.Step{Key: "method", Done: n.MethodChosen, Text: "Choose how new users get the VPN client in", Link: url("provisioning"),
				Name: "Directory Services", More: ": invitation email (the default) or registration code."},
			home.Step{Key: "users", Done: n.Enabled+n.Disabled > 0, Text: "Add your users in", Link: url("users.list"), Name: "Users",
				More: ", or connect a directory."})
	}
	return append(out,
		home.Step{Key: "access", Done: n.Reached, Text: "Give users access: generate a registration code or send an invitation from", Link: url("users.list"),
			Name: "Users", More: " › Actions."},
		home.Step{Key: "device", Done: n.Connected, Text: "A user registers the VPN client: the device appears in", Link: url("devices.list"),
			Name: "Devices", More: "."})
}

// countGroups are the account's figures, each linked to the list it counts (the outbox only
// for admins: email bodies hold one-time links).
func (h *Handler) countGroups(c echo.Context, n events.Counts, admin bool) []home.CountGroup {
	users, devices := c.Echo().Reverse("users.list"), c.Echo().Reverse("devices.list")
	outbox := ""
	if admin {
		outbox = c.Echo().Reverse("outbox")
	}
	return []home.CountGroup{
		{Title: "Users", Counts: []home.Count{
			{Key: "enabled", Label: "Enabled", Value: capped(n.Enabled), URL: users + "?status=enabled"},
			{Key: "disabled", Label: "Disabled", Value: capped(n.Disabled), URL: users + "?status=disabled"},
			{Key: "new", Label: models.ActivationNew.Label(), Value: capped(n.New), URL: users + "?activation=new"},
			{Key: "invitation_sent", Label: models.ActivationInvitationSent.Label(), Value: capped(n.InvitationSent), URL: users + "?activation=invitation_sent"},
			{Key: "active", Label: models.ActivationActive.Label(), Value: capped(n.Active), URL: users + "?activation=active"},
		}},
		{Title: "Access and mail", Counts: []home.Count{
			{Key: "codes", Label: "Active registration codes", Value: capped(n.ActiveCodes)},
			{Key: "devices", Label: "Active devices", Value: capped(n.ActiveDevices), URL: devices + "?state=active"},
			{Key: "held", Label: "Mail held (no SMTP server)", Value: capped(n.MailHeld), URL: outbox},
			{Key: "failed", Label: "Mail failed", Value: capped(n.MailFailed), URL: outbox},
		}},
	}
}

// capped shows a count read up to events.CountCap+1: past the cap, "10,000+".
func capped(n int64) string { return countText(min(n, events.CountCap), n > events.CountCap) }

func eventRow(e models.Event) home.EventRow {
	actor := string(e.ActorType)
	if e.ActorLabel != "" {
		actor += " · " + e.ActorLabel
	}
	return home.EventRow{
		Time:    e.OccurredAt.UTC().Format(web.TimeLayout),
		ISOTime: e.OccurredAt.UTC().Format(web.ISOLayout),
		What:    string(e.Type) + " · " + e.SubType,
		Actor:   actor,
		Subject: e.Email,
		IP:      e.SourceIP,
	}
}
