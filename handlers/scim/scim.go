// Package scim is the SCIM 2.0 server at /scim/v2 (RFC 7643 / 7644) that identity providers
// (Okta, Entra ID) push users to. A bearer token of a SCIM directory authenticates each
// request; there are no cookies and so no CSRF. Bodies are application/scim+json, errors use
// the SCIM error schema. The protocol's rules live in models/directory.
package scim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/directory"
)

// Prefix starts every SCIM address.
const Prefix = "/scim/v2"

// contentType is the media type of every SCIM body (RFC 7644 §3.1).
const contentType = "application/scim+json"

// MaxBody bounds a request body: a user or a PATCH takes a few kilobytes, and 1 MB still holds
// a group PUT of some 15,000 members. A larger body is 413 (the router refuses anything over
// 2 MB before it is read).
const MaxBody = 1 << 20

// Handler serves /scim/v2.
type Handler struct {
	dir *directory.Service
	log *slog.Logger
}

// New builds the SCIM handlers; failures (5xx) are logged to log.
func New(d *directory.Service, log *slog.Logger) *Handler { return &Handler{dir: d, log: log} }

type directoryKey struct{}

// Authenticate admits a request with the bearer token of a SCIM directory and hands its
// directory to the handler; anything else is 401 in the SCIM error schema.
func (h *Handler) Authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		auth := c.Request().Header.Get(echo.HeaderAuthorization)
		scheme, token, _ := strings.Cut(auth, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			token = ""
		}
		d, err := h.dir.Authenticate(c.Request().Context(), strings.TrimSpace(token), c.RealIP())
		if err != nil {
			return err
		}
		c.SetRequest(c.Request().WithContext(context.WithValue(c.Request().Context(), directoryKey{}, d)))
		return next(c)
	}
}

func dirOf(c echo.Context) *models.Directory {
	return c.Request().Context().Value(directoryKey{}).(*models.Directory)
}

// ListUsers is GET /Users.
func (h *Handler) ListUsers(c echo.Context) error {
	start, count, err := pageParams(c)
	if err != nil {
		return err
	}
	out, err := h.dir.ListUsers(c.Request().Context(), dirOf(c), c.QueryParam("filter"), start, count)
	if err != nil {
		return err
	}
	for _, u := range out.Resources {
		h.locate(c, u)
	}
	return send(c, http.StatusOK, out)
}

// GetUser is GET /Users/:id.
func (h *Handler) GetUser(c echo.Context) error {
	u, err := h.dir.GetUser(c.Request().Context(), dirOf(c), c.Param("id"))
	return h.answer(c, http.StatusOK, u, err)
}

// CreateUser is POST /Users.
func (h *Handler) CreateUser(c echo.Context) error {
	var in directory.User
	if err := decode(c, &in); err != nil {
		return err
	}
	u, err := h.dir.CreateUser(c.Request().Context(), dirOf(c), c.RealIP(), &in)
	return h.answer(c, http.StatusCreated, u, err)
}

// ReplaceUser is PUT /Users/:id.
func (h *Handler) ReplaceUser(c echo.Context) error {
	var in directory.User
	if err := decode(c, &in); err != nil {
		return err
	}
	u, err := h.dir.ReplaceUser(c.Request().Context(), dirOf(c), c.RealIP(), c.Param("id"), &in)
	return h.answer(c, http.StatusOK, u, err)
}

// PatchUser is PATCH /Users/:id.
func (h *Handler) PatchUser(c echo.Context) error {
	var in directory.PatchRequest
	if err := decode(c, &in); err != nil {
		return err
	}
	u, err := h.dir.PatchUser(c.Request().Context(), dirOf(c), c.RealIP(), c.Param("id"), &in)
	return h.answer(c, http.StatusOK, u, err)
}

// DeleteUser is DELETE /Users/:id.
func (h *Handler) DeleteUser(c echo.Context) error {
	return deleted(c, h.dir.DeleteUser(c.Request().Context(), dirOf(c), c.RealIP(), c.Param("id")))
}

func (h *Handler) answer(c echo.Context, status int, u *directory.User, err error) error {
	if err != nil {
		return err
	}
	h.locate(c, u)
	return sendAt(c, status, u.Meta.Location, u)
}

// deleted answers a DELETE: 204, or the error.
func deleted(c echo.Context, err error) error {
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// pageParams reads a list's startIndex and count.
func pageParams(c echo.Context) (start, count int, err error) {
	if start, err = intParam(c, "startIndex", 1); err != nil {
		return 0, 0, err
	}
	count, err = intParam(c, "count", directory.MaxResults)
	return start, count, err
}

// sendAt sends a resource with its address in Location.
func sendAt(c echo.Context, status int, location string, v any) error {
	c.Response().Header().Set(echo.HeaderLocation, location)
	return send(c, status, v)
}

// locate sets the resource's meta.location from the address it was asked at.
func (h *Handler) locate(c echo.Context, u *directory.User) {
	u.Meta.Location = c.Scheme() + "://" + c.Request().Host + Prefix + "/Users/" + u.ID
}

// intParam reads an optional integer query parameter.
func intParam(c echo.Context, name string, def int) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, &directory.Error{Status: http.StatusBadRequest, Type: "invalidValue", Detail: name + " must be an integer."}
	}
	return n, nil
}

// decode reads a JSON body (application/scim+json or application/json).
func decode(c echo.Context, dst any) error {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, MaxBody+1))
	if err != nil {
		return err
	}
	if len(body) > MaxBody {
		return &directory.Error{Status: http.StatusRequestEntityTooLarge, Detail: "The body is larger than 1 MB."}
	}
	if err := json.Unmarshal(body, dst); err != nil {
		var se *directory.Error
		if errors.As(err, &se) {
			return se
		}
		return &directory.Error{Status: http.StatusBadRequest, Type: "invalidSyntax", Detail: "The body is not the JSON expected: " + err.Error()}
	}
	return nil
}

func send(c echo.Context, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.Blob(status, contentType, b)
}

// errorBody is the SCIM error schema (RFC 7644 §3.12): status is a string.
type errorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// HandleError renders every error of /scim/v2 in the SCIM error schema.
func (h *Handler) HandleError(err error, c echo.Context) {
	body := errorBody{Schemas: []string{directory.SchemaError}}
	status := http.StatusInternalServerError
	var se *directory.Error
	var rl *models.RateLimitError
	if errors.As(err, &se) {
		status, body.ScimType, body.Detail = se.Status, se.Type, se.Detail
	} else if errors.As(err, &rl) {
		status = http.StatusTooManyRequests
		wait := web.RetrySeconds(rl)
		c.Response().Header().Set("Retry-After", strconv.Itoa(wait))
		body.Detail = "Too many failed authentications from this address: retry in " + models.Plural(wait, "second", "seconds") + "."
	} else {
		p := web.Problem(err, c, false)
		status, body.Detail = p.Status, p.Message
		if status >= 500 {
			web.LogFailure(h.log, c, p.RequestID, err)
			body.Detail = "The server could not answer. Request ID: " + p.RequestID + "."
		}
	}
	if status == http.StatusUnauthorized {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="onramp-scim"`)
	}
	if body.Detail == "" {
		body.Detail = http.StatusText(status)
	}
	body.Status = strconv.Itoa(status)
	_ = send(c, status, body)
}
