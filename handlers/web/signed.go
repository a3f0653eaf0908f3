package web

import (
	"context"
	"errors"

	"github.com/labstack/echo/v4"

	"onramp/models"
)

// Signed is how an audience finds who is signed in: its cookie's session token, resolved
// against the database by Resolve (models.ErrUnauthorized when the token opens no session any
// more), so that a deleted session row (sign-out, password change, disable) ends the session on
// the very next request.
type Signed[T any] struct {
	Cookie  *Cookie
	Resolve func(ctx context.Context, token string) (*T, error)
}

type signedKey[T any] struct{}

// Load resolves the request's session, when there is one, and keeps who it belongs to in the
// request's context for Current. A session that no longer resolves is forgotten here.
func (s Signed[T]) Load(c echo.Context) error {
	token := s.Cookie.Token(c)
	if token == "" {
		return nil
	}
	who, err := s.Resolve(c.Request().Context(), token)
	switch {
	case errors.Is(err, models.ErrUnauthorized):
		return nil
	case err != nil:
		return err
	}
	req := c.Request()
	c.SetRequest(req.WithContext(context.WithValue(req.Context(), signedKey[T]{}, who)))
	return nil
}

// Current is who Load found signed in on the request, or nil.
func Current[T any](c echo.Context) *T {
	who, _ := c.Request().Context().Value(signedKey[T]{}).(*T)
	return who
}
