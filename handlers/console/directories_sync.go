package console

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/directory"
	"onramp/views"
	"onramp/views/components"
	dirpages "onramp/views/pages/directories"
)

// recentSyncs is how many syncs a directory's pages list.
const recentSyncs = 10

// DirectorySyncNow serves POST /access/directory-services/directories/:id/sync: a sync runs in
// the background and its page follows it. With a sync already open, that sync's page.
func (h *Handler) DirectorySyncNow(c echo.Context) error {
	return h.startSync(c, false)
}

// DirectorySyncApprove serves POST /access/directory-services/directories/:id/approve, confirmed
// first: the sync a safety limit stopped runs again, once allowed past the limits.
func (h *Handler) DirectorySyncApprove(c echo.Context) error {
	if web.Confirmed(c) {
		return h.startSync(c, true)
	}
	d, err := h.directory(c)
	if err != nil {
		return err
	}
	latest, err := h.Directory.DirectorySyncs(c.Request().Context(), current(c).Admin, d.ID, 1)
	if err != nil {
		return err
	}
	list := c.Echo().Reverse("directories")
	if len(latest) == 0 || latest[0].Status != models.SyncBlocked {
		return h.flashRedirect(c, views.FlashInfo, "The latest sync of "+d.Name+" was not stopped by a safety limit: there is nothing to approve.", list)
	}
	return h.askConfirm(c, components.ConfirmProps{Title: "Approve this sync of " + d.Name + "?",
		Message: latest[0].Error, Note: "Approve and sync runs one new sync that may go past the limits: the users it finds missing or disabled " +
			"in " + d.Name + " are disabled or deleted in Onramp, their devices and sessions signed out. Check the directory first if these numbers surprise you.",
		Action: c.Request().URL.Path, ConfirmLabel: "Approve and sync", CancelURL: list, Danger: true}, "provisioning", "Directory Services")
}

func (h *Handler) startSync(c echo.Context, approve bool) error {
	d, err := h.directory(c)
	if err != nil {
		return err
	}
	ds, err := h.Directory.StartSync(c.Request().Context(), current(c).Admin, c.RealIP(), d.ID, approve)
	var ve *models.ValidationError
	switch {
	case errors.Is(err, directory.ErrSyncRunning) && ds != nil:
		return h.flashRedirect(c, views.FlashInfo, "A sync of "+d.Name+" is already running: here is its progress.",
			c.Echo().Reverse("directories.sync.show", d.ID, ds.ID))
	case errors.As(err, &ve):
		return h.flashRedirect(c, views.FlashError, strings.Join(fieldMessages(ve), " "), c.Echo().Reverse("directories"))
	case err != nil:
		return err
	}
	return web.Redirect(c, c.Echo().Reverse("directories.sync.show", d.ID, ds.ID))
}

func fieldMessages(ve *models.ValidationError) []string {
	out := make([]string, 0, len(ve.Fields))
	for _, m := range ve.Fields {
		out = append(out, m)
	}
	return out
}

// DirectorySyncShow serves GET /access/directory-services/directories/:id/syncs/:sync: the
// page, or for htmx the progress block it polls every second until the sync ends.
func (h *Handler) DirectorySyncShow(c echo.Context) error {
	d, err := h.directory(c)
	if err != nil {
		return err
	}
	syncID, err := web.ID(c, "sync")
	if err != nil {
		return err
	}
	ctx, admin := c.Request().Context(), current(c).Admin
	ds, err := h.Directory.DirectorySync(ctx, admin, d.ID, syncID)
	if err != nil {
		return err
	}
	recent, err := h.Directory.DirectorySyncs(ctx, admin, d.ID, recentSyncs)
	if err != nil {
		return err
	}
	e := c.Echo()
	self := e.Reverse("directories.sync.show", d.ID, ds.ID)
	v := dirpages.SyncView{Directory: d.Name, Run: syncRun(ds, self), BackURL: e.Reverse("directories"), EditURL: e.Reverse("directories.ldap.edit", d.ID)}
	if !ds.Open() {
		v.Counts = syncCounts(ds)
		v.Skipped = ds.SkipReasons
	}
	if ds.Status == models.SyncBlocked && len(recent) > 0 && recent[0].ID == ds.ID {
		v.ApproveURL = e.Reverse("directories.approve", d.ID)
	}
	p := h.page(c, "Sync of "+d.Name, "provisioning")
	if web.IsHTMX(c) {
		return web.Render(c, http.StatusOK, dirpages.SyncStatus(p, v))
	}
	return web.Render(c, http.StatusOK, dirpages.SyncPage(p, v, syncRows(c, recent)))
}

// syncRun is a sync as the shared progress block shows it.
func syncRun(ds *models.DirectorySync, self string) components.Run {
	v := components.Run{TestID: "sync", Heading: "Progress", Status: string(ds.Status), Total: ds.Total, Done: ds.Seen,
		Error: ds.Error, Open: ds.Open(), PollURL: self, RefreshURL: self}
	v.Label, v.Badge = syncBadge(ds.Status)
	if v.Total > 0 {
		v.Percent = min(100, ds.Seen*100/ds.Total)
	}
	switch {
	case ds.Status == models.SyncQueued:
		v.Progress = "Waiting to start."
	case ds.Total > 0:
		v.Progress = fmt.Sprintf("%d of %s read (%d%%).", ds.Seen, models.Plural(ds.Total, "directory user", "directory users"), v.Percent)
	default:
		v.Progress = fmt.Sprintf("%s read so far.", models.Plural(ds.Seen, "directory user", "directory users"))
	}
	v.Timeline = fmt.Sprintf("Started %s UTC by %s", ds.CreatedAt.UTC().Format(web.TimeLayout), actorLabel(ds))
	if ds.FinishedAt != nil {
		v.Timeline += ", finished " + ds.FinishedAt.UTC().Format(web.TimeLayout) + " UTC"
	}
	v.Timeline += "."
	return v
}

func actorLabel(ds *models.DirectorySync) string {
	if ds.ActorLabel == "" {
		return string(ds.ActorType)
	}
	return ds.ActorLabel
}

func syncBadge(st models.SyncStatus) (label, badge string) {
	switch st {
	case models.SyncQueued:
		return "Queued", "neutral"
	case models.SyncRunning:
		return "Running", "info"
	case models.SyncDone:
		return "Done", "success"
	case models.SyncBlocked:
		return "Stopped by a safety limit", "warning"
	}
	return "Failed", "danger"
}

// syncCounts says what a finished sync changed.
func syncCounts(ds *models.DirectorySync) string {
	if ds.Status != models.SyncDone {
		return "Nothing was changed."
	}
	s := fmt.Sprintf("%d created, %d updated, %d disabled, %d deleted, %d unchanged", ds.Created, ds.Updated, ds.Disabled, ds.Deleted, ds.Unchanged)
	if ds.Skipped > 0 {
		s += fmt.Sprintf(", %d skipped", ds.Skipped)
	}
	return s + "."
}

var syncCauses = map[models.SyncCause]string{models.SyncManual: "Sync now", models.SyncSchedule: "Schedule",
	models.SyncCLI: "Command line", models.SyncApproval: "Approval"}

func syncRows(c echo.Context, syncs []models.DirectorySync) []dirpages.SyncRow {
	rows := make([]dirpages.SyncRow, len(syncs))
	for i := range syncs {
		ds := &syncs[i]
		label, badge := syncBadge(ds.Status)
		rows[i] = dirpages.SyncRow{Started: ds.CreatedAt.UTC().Format(web.TimeLayout), Cause: syncCauses[ds.Cause], Actor: actorLabel(ds),
			Status: label, Badge: badge, Error: ds.Error, URL: c.Echo().Reverse("directories.sync.show", ds.DirectoryID, ds.ID)}
		if !ds.Open() {
			rows[i].Counts = syncCounts(ds)
		}
	}
	return rows
}
