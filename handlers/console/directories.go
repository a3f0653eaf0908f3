package console

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"onramp/handlers/forms"
	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/directory"
	"onramp/views"
	"onramp/views/components"
	dirpages "onramp/views/pages/directories"
)

// DirectoriesPage serves GET /access/directory-services/directories (the Directory Sync tab).
func (h *Handler) DirectoriesPage(c echo.Context) error {
	return h.directoriesPage(c, http.StatusOK, "", nil)
}

func (h *Handler) directoriesPage(c echo.Context, status int, name string, errs map[string]string) error {
	ctx := c.Request().Context()
	sums, err := h.Directory.Directories(ctx, current(c).Account.ID)
	if err != nil {
		return err
	}
	latest, err := h.Directory.LatestSyncs(ctx, current(c).Admin)
	if err != nil {
		return err
	}
	rows := make([]dirpages.Row, len(sums))
	for i, s := range sums {
		rows[i] = directoryRow(c, s)
		if ds, ok := latest[s.Directory.ID]; ok {
			lastSync(c, &rows[i], &ds)
		}
	}
	return web.Render(c, status, dirpages.Page(h.page(c, "Directory Sync", "provisioning"), rows, name, errs))
}

func directoryRow(c echo.Context, s directory.Summary) dirpages.Row {
	d := s.Directory
	r := dirpages.Row{Name: d.Name, Kind: strings.ToUpper(string(d.Kind)), Users: s.Users, Live: s.Live(),
		State: "No live token", Badge: "neutral", LastActivity: optTime(s.LastActivity)}
	if r.Live {
		r.State, r.Badge = "Active", "active"
	}
	e := c.Echo()
	switch d.Kind {
	case models.DirectorySCIM:
		r.NewTokenURL = e.Reverse("directories.token", d.ID)
	case models.DirectoryLDAP:
		r.State, r.Badge = "Never synced", "neutral"
		r.EditURL = e.Reverse("directories.ldap.edit", d.ID)
		r.TestURL = e.Reverse("directories.ldap.test", d.ID)
		r.SyncURL = e.Reverse("directories.sync", d.ID)
	}
	for _, t := range s.Tokens {
		r.Tokens = append(r.Tokens, dirpages.TokenRow{Name: t.Name, Created: optTime(&t.CreatedAt), LastUsed: optTime(t.LastUsedAt),
			LastIP: t.LastUsedIP, Revoked: optTime(t.RevokedAt), RevokeURL: c.Echo().Reverse("directories.token.revoke", d.ID, t.ID)})
	}
	return r
}

// lastSync shows an LDAP directory's latest sync on its row: status, time, counts, error, and
// Approve and sync when a safety limit stopped it.
func lastSync(c echo.Context, r *dirpages.Row, ds *models.DirectorySync) {
	r.State, r.Badge = syncBadge(ds.Status)
	at := ds.CreatedAt
	if ds.FinishedAt != nil {
		at = *ds.FinishedAt
	}
	r.LastActivity = optTime(&at)
	r.LastSyncURL = c.Echo().Reverse("directories.sync.show", ds.DirectoryID, ds.ID)
	r.SyncError = ds.Error
	if !ds.Open() {
		r.SyncSummary = "Last sync: " + syncCounts(ds)
	}
	if ds.Status == models.SyncBlocked {
		r.ApproveURL = c.Echo().Reverse("directories.approve", ds.DirectoryID)
	}
}

// DirectoryCreate serves POST /access/directory-services/directories: a SCIM directory and
// its first token, shown once.
func (h *Handler) DirectoryCreate(c echo.Context) error {
	var f forms.Directory
	if err := c.Bind(&f); err != nil {
		return err
	}
	err := h.issueToken(c, f.Name, h.Directory.CreateSCIMDirectory)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		return h.directoriesPage(c, http.StatusUnprocessableEntity, f.Name, ve.Fields)
	}
	return err
}

// DirectoryToken serves POST /access/directory-services/directories/:id/tokens: another
// token for a SCIM directory (to rotate it without a gap).
func (h *Handler) DirectoryToken(c echo.Context) error {
	d, err := h.directory(c)
	if err != nil {
		return err
	}
	err = h.issueToken(c, d.Name, h.Directory.IssueSCIMToken)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		return h.flashRedirect(c, views.FlashError, ve.Fields["name"], c.Echo().Reverse("directories"))
	}
	return err
}

// issueToken creates a token for the directory named name with issue (a new directory's, or
// another for an existing one) and shows it, once.
func (h *Handler) issueToken(c echo.Context, name string, issue func(context.Context, string, string, models.Actor) (string, error)) error {
	cur := current(c)
	tok, err := issue(c.Request().Context(), cur.Account.Name, name, models.AdminActor(cur.Admin, c.RealIP()))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return web.Render(c, http.StatusOK, dirpages.TokenPage(h.page(c, "Directory Sync", "provisioning"),
		dirpages.Created{Directory: strings.TrimSpace(name), Token: tok, BaseURL: strings.TrimRight(h.BaseURL, "/") + "/scim/v2"}))
}

// DirectoryTokenRevoke serves POST /access/directory-services/directories/:id/tokens/:token/revoke,
// confirmed first.
func (h *Handler) DirectoryTokenRevoke(c echo.Context) error {
	d, err := h.directory(c)
	if err != nil {
		return err
	}
	tokenID, err := web.ID(c, "token")
	if err != nil {
		return err
	}
	list := c.Echo().Reverse("directories")
	if !web.Confirmed(c) {
		return h.askConfirm(c, components.ConfirmProps{Title: "Revoke this SCIM token?",
			Message: "The identity provider using it gets 401 from then on and stops provisioning into " + d.Name +
				" until it has a new token. This cannot be undone.",
			Action: c.Request().URL.Path, ConfirmLabel: "Revoke token", CancelURL: list, Danger: true},
			"provisioning", "Directory Services")
	}
	cur := current(c)
	if err := h.Directory.RevokeSCIMToken(c.Request().Context(), cur.Account.ID, d.ID, tokenID, models.AdminActor(cur.Admin, c.RealIP())); err != nil {
		return err
	}
	return h.flashRedirect(c, views.FlashSuccess, "Token revoked.", list)
}

// directory loads the directory of the :id path parameter (404 for another account's).
func (h *Handler) directory(c echo.Context) (*models.Directory, error) {
	id, err := web.ID(c, "id")
	if err != nil {
		return nil, err
	}
	return h.Directory.Directory(c.Request().Context(), current(c).Account.ID, id)
}

// optTime shows a time in UTC, "" for none.
func optTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(web.TimeLayout) + " UTC"
}
