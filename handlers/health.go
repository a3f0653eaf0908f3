package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// healthz says the process is up.
func (h *Handler) healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok")
}

// readyz says the database answers; load balancers send no traffic until it does.
func (h *Handler) readyz(c echo.Context) error {
	if err := h.Services.Ping(c.Request().Context()); err != nil {
		return c.String(http.StatusServiceUnavailable, "database unavailable")
	}
	return c.String(http.StatusOK, "ready")
}
