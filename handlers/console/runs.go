package console

import (
	"fmt"

	"onramp/handlers/web"
	"onramp/models"
	"onramp/views/components"
)

// runView is a run as the shared progress block shows it; progress is the line that says how
// far it got ("600 of 1,000 codes generated (60%).").
func runView(r *models.Run, testID, heading, progress, pollURL, refreshURL string) components.Run {
	v := components.Run{TestID: testID, Heading: heading, Status: string(r.Status), Total: r.Total, Done: r.Done, Percent: r.Percent(),
		Progress: progress, Error: r.Error, Open: r.Open(), PollURL: pollURL, RefreshURL: refreshURL}
	switch r.Status {
	case models.RunQueued:
		v.Label, v.Badge = "Queued", "neutral"
	case models.RunRunning:
		v.Label, v.Badge = "Running", "info"
	case models.RunDone:
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
