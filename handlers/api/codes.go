package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"onramp/models"
	"onramp/models/users"
)

// GenerateInput is POST /api/v1/codes.
type GenerateInput struct {
	UserIDs []int64 `json:"user_ids"`
}

// Generated is what generating codes did, with the new codes: this response is the only
// place their text is shown (keep it; a retry with the same Idempotency-Key replays it).
type Generated struct {
	Generated  int    `json:"generated"`
	Skipped    int    `json:"skipped"`
	SkippedMFA int    `json:"skipped_mfa"`
	Codes      []Code `json:"codes"`
}

// GenerateCodes serves POST /api/v1/codes: the console's Generate registration code action
// (a new code for each enabled user without MFA among user_ids, in addition to their codes).
func (h *Handler) GenerateCodes(c echo.Context) error {
	var in GenerateInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if len(in.UserIDs) == 0 || len(in.UserIDs) > MaxIDs {
		return models.NewValidationError("user_ids", "Name 1 to 1000 user ids.")
	}
	ctx := c.Request().Context()
	out, err := h.Users.Perform(ctx, actor(c), c.RealIP(), users.ActionGenerateCode, users.Selection{IDs: in.UserIDs})
	if err != nil {
		return err
	}
	if out.Result.Affected+out.Result.Skipped == 0 {
		return models.NewValidationError("user_ids", "None of these ids is a user of this account.")
	}
	res := Generated{Generated: out.Result.Affected, Skipped: out.Result.Skipped, SkippedMFA: out.Result.SkippedMFA, Codes: []Code{}}
	if out.Result.HandoutID != 0 {
		if res.Codes, err = h.handOver(c, out.Result.HandoutID); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusCreated, res)
}

// CodeInfo is a code without its text.
type CodeInfo struct {
	ID          int64      `json:"id"`
	State       string     `json:"state"`
	GeneratedBy string     `json:"generated_by"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   time.Time  `json:"expires_at"`
	UsedAt      *time.Time `json:"used_at,omitempty"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
	Device      string     `json:"device,omitempty"`
}

// UserCodes serves GET /api/v1/users/:id/codes: the user's newest codes, never their text.
func (h *Handler) UserCodes(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := h.Users.Get(ctx, actor(c), id); err != nil {
		return err
	}
	cs, err := h.Codes.UserCodes(ctx, actor(c), id)
	if err != nil {
		return err
	}
	now := h.Codes.Now()
	out := make([]CodeInfo, 0, len(cs))
	for _, uc := range cs {
		rc := uc.RegistrationCode
		out = append(out, CodeInfo{ID: rc.ID, State: string(rc.State(now)), GeneratedBy: rc.GeneratedBy, CreatedAt: rc.CreatedAt.UTC(),
			ExpiresAt: rc.ExpiresAt.UTC(), UsedAt: rc.UsedAt, RevokedAt: rc.RevokedAt, Device: uc.DeviceName})
	}
	return c.JSON(http.StatusOK, map[string][]CodeInfo{"codes": out})
}

// RevokeUserCodes serves DELETE /api/v1/users/:id/codes: every active code of the user is
// revoked (a Revoked event each).
func (h *Handler) RevokeUserCodes(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.Codes.RevokeUserCodes(c.Request().Context(), actor(c), c.RealIP(), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// CodesCSV serves GET /api/v1/codes.csv: the console's Download Registration Codes, streamed.
func (h *Handler) CodesCSV(c echo.Context) error {
	ctx := c.Request().Context()
	account, err := h.Users.Account(ctx, actor(c))
	if err != nil {
		return err
	}
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+h.Codes.ExportFilename(account.Name)+`"`)
	_, err = h.Codes.WriteCSV(ctx, actor(c), c.RealIP(), res, func() error { res.Flush(); return nil })
	if err != nil && res.Committed {
		h.Log.WarnContext(ctx, "registration codes CSV stopped", "route", c.Path(), "error", err.Error())
		return nil
	}
	return err
}
