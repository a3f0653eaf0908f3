package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"onramp/models"
	"onramp/models/users"
)

// User is a user as this API shows it.
type User struct {
	ID          int64     `json:"id"`
	FirstName   string    `json:"first_name"`
	LastName    string    `json:"last_name"`
	Email       string    `json:"email"`
	Phone       string    `json:"phone,omitempty"`
	Origin      string    `json:"origin"`
	ManagedBy   string    `json:"managed_by,omitempty"`
	Status      string    `json:"status"`
	Activation  string    `json:"activation"`
	MFA         bool      `json:"mfa"`
	ActiveCodes int       `json:"active_codes"`
	Devices     int       `json:"devices"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func userOf(u *models.SDPUser) User {
	return User{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, Phone: u.Phone, Origin: u.Origin,
		ManagedBy: u.ManagedBy(), Status: string(u.Status), Activation: string(u.Progress()), MFA: u.MFAConfigured,
		ActiveCodes: u.ActiveCodes, Devices: u.Devices, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()}
}

// UserPage is a page of the users list.
type UserPage struct {
	Users       []User `json:"users"`
	NextCursor  string `json:"next_cursor,omitempty"`
	Total       int64  `json:"total"`
	TotalCapped bool   `json:"total_capped"`
}

// ListUsers serves GET /api/v1/users: the console's filters (users.ParseFilter) and its
// keyset cursor.
func (h *Handler) ListUsers(c echo.Context) error {
	page, err := h.Users.List(c.Request().Context(), actor(c), users.ParseFilter(c.QueryParam), users.After(c.QueryParam("cursor")))
	if err != nil {
		return err
	}
	out := UserPage{Users: make([]User, 0, len(page.Users)), NextCursor: page.Next, Total: page.Total, TotalCapped: page.More}
	for i := range page.Users {
		out.Users = append(out.Users, userOf(&page.Users[i]))
	}
	return c.JSON(http.StatusOK, out)
}

// GetUser serves GET /api/v1/users/:id.
func (h *Handler) GetUser(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	u, err := h.Users.Get(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, userOf(u))
}

// UserInput is a user's profile in a POST (every field but phone required) or a PATCH (the
// fields sent change).
type UserInput struct {
	FirstName *string `json:"first_name"`
	LastName  *string `json:"last_name"`
	Email     *string `json:"email"`
	Phone     *string `json:"phone"`
}

// apply sets the fields sent over in.
func (in UserInput) apply(to *users.CreateInput) {
	for _, f := range []struct {
		v   *string
		dst *string
	}{{in.FirstName, &to.FirstName}, {in.LastName, &to.LastName}, {in.Email, &to.Email}, {in.Phone, &to.Phone}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
}

// CreatedUser is a user just created and, under the Registration Code method, their first
// code, shown once.
type CreatedUser struct {
	User
	RegistrationCode *Code `json:"registration_code,omitempty"`
}

// CreateUser serves POST /api/v1/users: the console's New user (an invitation queued, or
// under the Registration Code method a first code, returned here once).
func (h *Handler) CreateUser(c echo.Context) error {
	var in UserInput
	if err := decode(c, &in); err != nil {
		return err
	}
	var ci users.CreateInput
	in.apply(&ci)
	ctx := c.Request().Context()
	created, err := h.Users.Create(ctx, actor(c), c.RealIP(), ci)
	if err != nil {
		return err
	}
	out := CreatedUser{User: userOf(created.User)}
	if created.HandoutID != 0 {
		ho, err := h.Codes.HandOver(ctx, actor(c), created.HandoutID)
		if err != nil {
			return err
		}
		if len(ho.Codes) > 0 {
			code := codeOf(ho.Codes[0])
			out.RegistrationCode = &code
		}
	}
	u, err := h.Users.Get(ctx, actor(c), created.User.ID)
	if err != nil {
		return err
	}
	out.User = userOf(u)
	c.Response().Header().Set(echo.HeaderLocation, c.Echo().Reverse("api.user", u.ID))
	return c.JSON(http.StatusCreated, out)
}

// UpdateUser serves PATCH /api/v1/users/:id: the console's Edit user, with its rules (a
// directory's user is refused).
func (h *Handler) UpdateUser(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in UserInput
	if err := decode(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, err := h.Users.Get(ctx, actor(c), id)
	if err != nil {
		return err
	}
	ci := users.CreateInput{FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, Phone: u.Phone}
	in.apply(&ci)
	if _, err := h.Users.Update(ctx, actor(c), c.RealIP(), id, ci); err != nil {
		return err
	}
	return h.GetUser(c)
}

// DeleteUser serves DELETE /api/v1/users/:id: the console's Delete action on one user.
func (h *Handler) DeleteUser(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := h.Users.Get(ctx, actor(c), id); err != nil {
		return err
	}
	if _, err := h.Users.Perform(ctx, actor(c), c.RealIP(), users.ActionDelete, users.Selection{IDs: []int64{id}}); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
