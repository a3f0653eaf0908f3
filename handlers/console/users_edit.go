package console

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"onramp/handlers/forms"
	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/users"
	"onramp/views"
	userpages "onramp/views/pages/users"
)

// UsersEdit serves GET /access/users/:id/edit: the Edit user form (admins).
func (h *Handler) UsersEdit(c echo.Context) error {
	id, err := web.ID(c, "id")
	if err != nil {
		return err
	}
	u, err := h.Users.Get(c.Request().Context(), current(c).Admin, id)
	if err != nil {
		return err
	}
	return h.renderEdit(c, http.StatusOK, u, forms.NewUser{FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, Phone: u.Phone}, nil)
}

func (h *Handler) renderEdit(c echo.Context, status int, u *models.SDPUser, f forms.NewUser, errs map[string]string) error {
	if u.ManagedBy() != "" { // read-only: what the directory says, never what was posted
		f = forms.NewUser{FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, Phone: u.Phone}
	}
	v := userpages.EditForm{ManagedBy: u.ManagedBy(), ID: u.ID, Name: u.FullName(), FirstName: f.FirstName, LastName: f.LastName, Email: f.Email, Phone: f.Phone,
		Errors: errs, Invited: u.Activation == models.ActivationInvitationSent,
		UserURL: c.Echo().Reverse("users.show", u.ID), Action: c.Echo().Reverse("users.update", u.ID)}
	return web.Render(c, status, userpages.EditPage(h.page(c, "Edit "+u.FullName(), "users.list"), v))
}

// UsersUpdate serves POST /access/users/:id/edit: bad input re-renders the form with what was
// typed (422); a save says what happened on the user page.
func (h *Handler) UsersUpdate(c echo.Context) error {
	id, err := web.ID(c, "id")
	if err != nil {
		return err
	}
	var f forms.NewUser
	if err := c.Bind(&f); err != nil {
		return err
	}
	cur := current(c)
	ctx := c.Request().Context()
	out, err := h.Users.Update(ctx, cur.Admin, c.RealIP(), id,
		users.CreateInput{FirstName: f.FirstName, LastName: f.LastName, Email: f.Email, Phone: f.Phone})
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		u, err := h.Users.Get(ctx, cur.Admin, id)
		if err != nil {
			return err
		}
		return h.renderEdit(c, http.StatusUnprocessableEntity, u, f, ve.Fields)
	case err != nil:
		return err
	}
	back := c.Echo().Reverse("users.show", id)
	if !out.Changed {
		return h.flashRedirect(c, views.FlashInfo, "No change to save.", back)
	}
	msg := out.User.FullName() + " is updated."
	if out.Reinvited {
		msg += " The invitation link mailed to the old address no longer works, and a new invitation is queued to " + out.User.Email + "."
	}
	return h.flashRedirect(c, views.FlashSuccess, msg, back)
}
