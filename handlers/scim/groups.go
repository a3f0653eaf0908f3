package scim

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"onramp/models/directory"
)

// ListGroups is GET /Groups.
func (h *Handler) ListGroups(c echo.Context) error {
	start, count, err := pageParams(c)
	if err != nil {
		return err
	}
	out, err := h.dir.ListGroups(c.Request().Context(), dirOf(c), c.QueryParam("filter"), start, count, !excludesMembers(c))
	if err != nil {
		return err
	}
	for _, g := range out.Resources {
		h.locateGroup(c, g)
	}
	return send(c, http.StatusOK, out)
}

// excludesMembers reports excludedAttributes=members (a comma-separated list).
func excludesMembers(c echo.Context) bool {
	for a := range strings.SplitSeq(c.QueryParam("excludedAttributes"), ",") {
		if strings.EqualFold(strings.TrimSpace(a), "members") {
			return true
		}
	}
	return false
}

// GetGroup is GET /Groups/:id.
func (h *Handler) GetGroup(c echo.Context) error {
	g, err := h.dir.GetGroup(c.Request().Context(), dirOf(c), c.Param("id"), !excludesMembers(c))
	return h.answerGroup(c, http.StatusOK, g, err)
}

// CreateGroup is POST /Groups.
func (h *Handler) CreateGroup(c echo.Context) error {
	var in directory.Group
	if err := decode(c, &in); err != nil {
		return err
	}
	g, err := h.dir.CreateGroup(c.Request().Context(), dirOf(c), c.RealIP(), &in)
	return h.answerGroup(c, http.StatusCreated, g, err)
}

// ReplaceGroup is PUT /Groups/:id.
func (h *Handler) ReplaceGroup(c echo.Context) error {
	var in directory.Group
	if err := decode(c, &in); err != nil {
		return err
	}
	g, err := h.dir.ReplaceGroup(c.Request().Context(), dirOf(c), c.RealIP(), c.Param("id"), &in)
	return h.answerGroup(c, http.StatusOK, g, err)
}

// PatchGroup is PATCH /Groups/:id.
func (h *Handler) PatchGroup(c echo.Context) error {
	var in directory.PatchRequest
	if err := decode(c, &in); err != nil {
		return err
	}
	g, err := h.dir.PatchGroup(c.Request().Context(), dirOf(c), c.RealIP(), c.Param("id"), &in)
	return h.answerGroup(c, http.StatusOK, g, err)
}

// DeleteGroup is DELETE /Groups/:id.
func (h *Handler) DeleteGroup(c echo.Context) error {
	return deleted(c, h.dir.DeleteGroup(c.Request().Context(), dirOf(c), c.RealIP(), c.Param("id")))
}

func (h *Handler) answerGroup(c echo.Context, status int, g *directory.Group, err error) error {
	if err != nil {
		return err
	}
	h.locateGroup(c, g)
	return sendAt(c, status, g.Meta.Location, g)
}

// locateGroup sets the group's meta.location and its members' $ref.
func (h *Handler) locateGroup(c echo.Context, g *directory.Group) {
	base := c.Scheme() + "://" + c.Request().Host + Prefix
	g.Meta.Location = base + "/Groups/" + g.ID
	for i := range g.Members {
		g.Members[i].Ref = base + "/Users/" + g.Members[i].Value
	}
}
