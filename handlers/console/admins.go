package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"onramp/handlers/forms"
	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/admins"
	"onramp/views"
	"onramp/views/components"
	adminpages "onramp/views/pages/admins"
)

// AdminsList serves GET /settings/administrators.
func (h *Handler) AdminsList(c echo.Context) error {
	after, _ := strconv.ParseInt(c.QueryParam("after"), 10, 64)
	return h.renderAdmins(c, http.StatusOK, after, adminpages.AddForm{Role: string(models.RoleHelpdesk)})
}

func (h *Handler) renderAdmins(c echo.Context, status int, after int64, form adminpages.AddForm) error {
	cur := current(c)
	page, err := h.Admins.List(c.Request().Context(), cur.Admin, after)
	if err != nil {
		return err
	}
	v := adminpages.List{Form: form}
	for _, a := range page.Admins {
		r := adminpages.Row{ID: a.ID, Name: a.Name, Email: a.Email, Role: string(a.Role), Disabled: a.Status == models.AdminDisabled,
			Pending: !a.HasPassword(), LastSignIn: "Never", IsSelf: a.ID == cur.Admin.ID, TwoStep: a.HasTOTP()}
		if a.LastSignInAt != nil {
			r.LastSignIn = a.LastSignInAt.UTC().Format(web.TimeLayout) + " UTC"
		}
		v.Rows = append(v.Rows, r)
	}
	list := c.Echo().Reverse("admins.list")
	if after > 0 {
		v.Pagination.FirstURL = list
	}
	if page.NextAfter > 0 {
		v.Pagination.NextURL = fmt.Sprintf("%s?after=%d", list, page.NextAfter)
	}
	return web.Render(c, status, adminpages.Page(h.page(c, "Administrators", "admins.list"), v))
}

// AdminsCreate serves POST /settings/administrators.
func (h *Handler) AdminsCreate(c echo.Context) error {
	var f forms.AddAdmin
	if err := c.Bind(&f); err != nil {
		return err
	}
	admin, token, err := h.Admins.Add(c.Request().Context(), current(c).Admin, c.RealIP(),
		admins.AddInput{Email: f.Email, Name: f.Name, Role: models.Role(f.Role)})
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		return h.renderAdmins(c, http.StatusUnprocessableEntity, 0,
			adminpages.AddForm{Email: f.Email, Name: f.Name, Role: f.Role, Errors: ve.Fields})
	case err != nil:
		return err
	}
	return h.renderLink(c, admin, token, true)
}

// renderLink shows a set-password link once. It is rendered, not redirected to, so that the
// token never sits in a cookie or a URL.
func (h *Handler) renderLink(c echo.Context, a *models.Admin, token string, created bool) error {
	link := h.BaseURL + c.Echo().Reverse("password.link", token)
	v := adminpages.LinkView{Name: a.Name, Email: a.Email, Link: link, Created: created, Expires: models.FormatDuration(h.Admins.LinkTTL())}
	return web.Render(c, http.StatusOK, adminpages.Link(h.page(c, "Administrators", "admins.list"), v))
}

// adminAction runs the confirm-then-do pattern for an action on one admin: without confirm=1 it
// answers with the warning (a dialog for htmx, a page otherwise); with it, it acts, flashes the
// outcome and goes back to the list.
func (h *Handler) adminAction(c echo.Context, warn func(*models.Admin, forms.AdminAction) components.ConfirmProps,
	do func(*models.Admin, int64, forms.AdminAction) error) error {
	id, err := web.ID(c, "id")
	if err != nil {
		return err
	}
	var f forms.AdminAction
	if err := c.Bind(&f); err != nil {
		return err
	}
	cur := current(c)
	if id == cur.Admin.ID {
		return echo.NewHTTPError(http.StatusForbidden, "You cannot change your own role, status or two-step verification here; ask another admin.")
	}
	ctx := c.Request().Context()
	if !web.Confirmed(c) {
		target, err := h.Admins.Get(ctx, cur.Admin, id)
		if err != nil {
			return err
		}
		p := warn(target, f)
		p.Action = c.Request().URL.Path
		p.CancelURL = c.Echo().Reverse("admins.list")
		return h.askConfirm(c, p, "admins.list", "Administrators")
	}
	err = do(cur.Admin, id, f)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		return h.flashRedirect(c, views.FlashError, ve.Fields[""], c.Echo().Reverse("admins.list"))
	}
	return err
}

// AdminsRole serves POST /settings/administrators/:id/role.
func (h *Handler) AdminsRole(c echo.Context) error {
	return h.adminAction(c,
		func(a *models.Admin, f forms.AdminAction) components.ConfirmProps {
			role := models.Role(f.Role)
			return components.ConfirmProps{
				Title:        fmt.Sprintf("Make %s %s?", a.Name, article(role)),
				Message:      roleWarning(a, role),
				ConfirmLabel: "Make " + role.Label(),
				Fields:       []components.Hidden{{Name: "role", Value: f.Role}},
			}
		},
		func(actor *models.Admin, id int64, f forms.AdminAction) error {
			a, err := h.Admins.SetRole(c.Request().Context(), actor, c.RealIP(), id, models.Role(f.Role))
			if err != nil {
				return err
			}
			return h.flashRedirect(c, views.FlashSuccess, fmt.Sprintf("%s is now %s.", a.Name, article(a.Role)), c.Echo().Reverse("admins.list"))
		})
}

func article(r models.Role) string {
	if r == models.RoleAdmin {
		return "an Admin"
	}
	return "Helpdesk"
}

func roleWarning(a *models.Admin, r models.Role) string {
	if r == models.RoleAdmin {
		return a.Email + " will be able to change account settings, manage administrators and download registration codes."
	}
	return a.Email + " will no longer be able to change settings or manage administrators."
}

// AdminsDisable serves POST /settings/administrators/:id/disable.
func (h *Handler) AdminsDisable(c echo.Context) error {
	return h.adminAction(c,
		func(a *models.Admin, _ forms.AdminAction) components.ConfirmProps {
			return components.ConfirmProps{
				Title:        "Disable " + a.Name + "?",
				Message:      a.Email + " is signed out everywhere at once and cannot sign in until enabled again.",
				ConfirmLabel: "Disable",
				Danger:       true,
			}
		},
		func(actor *models.Admin, id int64, _ forms.AdminAction) error {
			a, err := h.Admins.SetDisabled(c.Request().Context(), actor, c.RealIP(), id, true)
			if err != nil {
				return err
			}
			return h.flashRedirect(c, views.FlashSuccess, a.Name+" is disabled and signed out.", c.Echo().Reverse("admins.list"))
		})
}

// AdminsEnable serves POST /settings/administrators/:id/enable.
func (h *Handler) AdminsEnable(c echo.Context) error {
	return h.adminAction(c,
		func(a *models.Admin, _ forms.AdminAction) components.ConfirmProps {
			return components.ConfirmProps{
				Title:        "Enable " + a.Name + "?",
				Message:      a.Email + " will be able to sign in to the console again.",
				ConfirmLabel: "Enable",
			}
		},
		func(actor *models.Admin, id int64, _ forms.AdminAction) error {
			a, err := h.Admins.SetDisabled(c.Request().Context(), actor, c.RealIP(), id, false)
			if err != nil {
				return err
			}
			return h.flashRedirect(c, views.FlashSuccess, a.Name+" is enabled.", c.Echo().Reverse("admins.list"))
		})
}

// AdminsLink serves POST /settings/administrators/:id/link.
func (h *Handler) AdminsLink(c echo.Context) error {
	return h.adminAction(c,
		func(a *models.Admin, _ forms.AdminAction) components.ConfirmProps {
			return components.ConfirmProps{
				Title:        "New password link for " + a.Name + "?",
				Message:      "Any earlier link for " + a.Email + " stops working. Their current password keeps working until they use the new link.",
				ConfirmLabel: "Create link",
			}
		},
		func(actor *models.Admin, id int64, _ forms.AdminAction) error {
			a, token, err := h.Admins.NewPasswordLink(c.Request().Context(), actor, id)
			if err != nil {
				return err
			}
			return h.renderLink(c, a, token, false)
		})
}

// AdminsTwoStepRemove turns off another admin's two-step verification (a lost phone), after
// the warning.
func (h *Handler) AdminsTwoStepRemove(c echo.Context) error {
	return h.adminAction(c,
		func(a *models.Admin, _ forms.AdminAction) components.ConfirmProps {
			return components.ConfirmProps{
				Title: "Turn off two-step verification for " + a.Name + "?",
				Message: a.Email + " will sign in with their password alone until they set up two-step verification again. " +
					"Do this for someone who lost their authenticator app, once you know it is them who asks.",
				ConfirmLabel: "Turn off",
				Danger:       true,
			}
		},
		func(actor *models.Admin, id int64, _ forms.AdminAction) error {
			a, err := h.Admins.TurnOffTwoStep(c.Request().Context(), actor, c.RealIP(), id)
			if err != nil {
				return err
			}
			return h.flashRedirect(c, views.FlashSuccess, "Two-step verification is off for "+a.Name+".", c.Echo().Reverse("admins.list"))
		})
}
