package console

import (
	"errors"
	"fmt"
	"time"

	"github.com/labstack/echo/v4"

	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/runs"
	"onramp/views"
	"onramp/views/components"
)

// runView is a run as the shared progress block shows it; progress is the line that says how
// far it got ("600 of 1,000 codes generated (60%)."). A stalled run says so, and an admin gets
// its Resume button.
func runView(c echo.Context, r *models.Run, testID, heading, progress, pollURL, refreshURL string) components.Run {
	v := components.Run{TestID: testID, Heading: heading, Status: string(r.Status), Total: r.Total, Done: r.Done, Percent: r.Percent(),
		Progress: progress, Error: r.Error, Open: r.Open(), PollURL: pollURL, RefreshURL: refreshURL}
	switch {
	case r.Stalled(time.Now()):
		v.Label, v.Badge, v.Stalled = "Stalled, resuming", "warning", true
		if cur := current(c); cur != nil && cur.Admin.Role == models.RoleAdmin {
			v.ResumeURL, v.CSRF = c.Echo().Reverse("runs.resume", r.ID), web.CSRFToken(c)
		}
	case r.Status == models.RunQueued:
		v.Label, v.Badge = "Queued", "neutral"
	case r.Status == models.RunRunning:
		v.Label, v.Badge = "Running", "info"
	case r.Status == models.RunDone:
		v.Label, v.Badge = "Done", "success"
	default:
		v.Label, v.Badge = "Failed", "danger"
	}
	v.Timeline = fmt.Sprintf("Started %s UTC by %s", r.CreatedAt.UTC().Format(web.TimeLayout), r.ActorLabel)
	if r.FinishedAt != nil {
		v.Timeline += ", finished " + r.FinishedAt.UTC().Format(web.TimeLayout) + " UTC"
	}
	v.Timeline += "."
	return v
}

// RunResume resumes a stalled run at once (runs.Runner.Resume) and goes back to its page.
func (h *Handler) RunResume(c echo.Context) error {
	id, err := web.ID(c, "id")
	if err != nil {
		return err
	}
	run, err := h.Runs.Resume(c.Request().Context(), current(c).Admin, id, c.RealIP())
	if errors.Is(err, runs.ErrNotStalled) {
		return h.flashRedirect(c, views.FlashInfo, "This run is not stalled: it is working, waiting for a retry, or finished.", runPage(c, run))
	}
	if err != nil {
		return err
	}
	return h.flashRedirect(c, views.FlashSuccess, "Resumed: the run continues after its last finished batch.", runPage(c, run))
}

// runPage is where a run of its kind is followed.
func runPage(c echo.Context, r *models.Run) string {
	if r.Kind == models.RunGenerateCodes {
		return c.Echo().Reverse("clientaccess")
	}
	return c.Echo().Reverse("users.run", r.ID)
}
