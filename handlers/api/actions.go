package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"onramp/models"
	"onramp/models/codes"
	"onramp/models/users"
)

// MaxIDs is the most users a request names: a larger selection is all_matching with a filter,
// which runs in the background past users.InRequestLimit.
const MaxIDs = users.InRequestLimit

// ActionInput is POST /api/v1/users/actions: an action of the console's Users menu over listed
// ids, or over every user matching a filter (the list's query parameters).
type ActionInput struct {
	Action      string            `json:"action"`
	IDs         []int64           `json:"ids"`
	AllMatching bool              `json:"all_matching"`
	Filter      map[string]string `json:"filter"`
}

// ActionResult is what an action did in the request; Codes are the codes it generated, once.
type ActionResult struct {
	Action           string `json:"action"`
	Affected         int    `json:"affected"`
	Skipped          int    `json:"skipped"`
	SkippedMFA       int    `json:"skipped_mfa"`
	SkippedDirectory int    `json:"skipped_directory"`
	Codes            []Code `json:"codes,omitempty"`
}

// Code is a registration code just generated: its text is in this response only.
type Code struct {
	Email      string    `json:"email"`
	Code       string    `json:"code"`
	ExpiresAt  time.Time `json:"expires_at"`
	EnrollLink string    `json:"enroll_link"`
}

func codeOf(h codes.Handed) Code {
	return Code{Email: h.Email, Code: h.Code, ExpiresAt: h.ExpiresAt, EnrollLink: h.EnrollLink}
}

// Run is an action running in the background.
type Run struct {
	ID         int64      `json:"id"`
	Action     string     `json:"action"`
	Status     string     `json:"status"`
	Total      int        `json:"total"`
	Done       int        `json:"done"`
	Affected   int        `json:"affected"`
	Skipped    int        `json:"skipped"`
	Percent    int        `json:"percent"`
	Error      string     `json:"error,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

func runOf(r *models.Run) Run {
	return Run{ID: r.ID, Action: r.Action, Status: string(r.Status), Total: r.Total, Done: r.Done, Affected: r.Affected,
		Skipped: r.Skipped(), Percent: r.Percent(), Error: r.Error, CreatedAt: r.CreatedAt.UTC(), FinishedAt: r.FinishedAt}
}

// UsersAction serves POST /api/v1/users/actions: the console's confirmed action, with its
// rules. Up to users.InRequestLimit users it runs in the request (200, with the codes it
// generated); more (all_matching) start a run (202, GET /api/v1/runs/<id>). Actions that
// generate codes also need the codes:write scope.
func (h *Handler) UsersAction(c echo.Context) error {
	var in ActionInput
	if err := decode(c, &in); err != nil {
		return err
	}
	a := users.Action(in.Action)
	if !a.Valid() {
		return models.NewValidationError("action", "Unknown action "+strconv.Quote(in.Action)+".")
	}
	if a.HandsOutCodes() && !callerOf(c).token.Has(models.ScopeCodesWrite) {
		return problem(http.StatusForbidden, "insufficient-scope", "This token lacks the scope codes:write, which "+in.Action+" needs.")
	}
	switch {
	case in.AllMatching && len(in.IDs) > 0:
		return models.NewValidationError("ids", "Send ids or all_matching, not both.")
	case !in.AllMatching && len(in.IDs) == 0:
		return models.NewValidationError("ids", "Name at least one user id, or send all_matching with a filter.")
	case len(in.IDs) > MaxIDs:
		return models.NewValidationError("ids", "At most "+strconv.Itoa(MaxIDs)+" ids a request: for more, use all_matching with a filter.")
	}
	sel := users.Selection{IDs: in.IDs, All: in.AllMatching, Filter: users.ParseFilter(func(k string) string { return in.Filter[k] })}
	ctx := c.Request().Context()
	out, err := h.Users.Perform(ctx, actor(c), c.RealIP(), a, sel)
	if errors.Is(err, users.ErrActionInProgress) && out.Run != nil {
		return problem(http.StatusConflict, "action-in-progress", "Another action on many users is still running: "+
			c.Echo().Reverse("api.run", out.Run.ID)+". Retry when it has ended.")
	}
	if err != nil {
		return err
	}
	if out.Run != nil {
		c.Response().Header().Set(echo.HeaderLocation, c.Echo().Reverse("api.run", out.Run.ID))
		return c.JSON(http.StatusAccepted, runOf(out.Run))
	}
	res := ActionResult{Action: string(a), Affected: out.Result.Affected, Skipped: out.Result.Skipped,
		SkippedMFA: out.Result.SkippedMFA, SkippedDirectory: out.Result.SkippedDirectory}
	if out.Result.HandoutID != 0 {
		if res.Codes, err = h.handOver(c, out.Result.HandoutID); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, res)
}

// handOver takes the codes of a handout just filled, once.
func (h *Handler) handOver(c echo.Context, id int64) ([]Code, error) {
	ho, err := h.Codes.HandOver(c.Request().Context(), actor(c), id)
	if err != nil {
		return nil, err
	}
	out := make([]Code, 0, len(ho.Codes))
	for _, hc := range ho.Codes {
		out = append(out, codeOf(hc))
	}
	return out, nil
}

// GetRun serves GET /api/v1/runs/:id: the progress of an action running in the background.
func (h *Handler) GetRun(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	run, err := h.Users.Run(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, runOf(run))
}
