package handlers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"
)

// probes answer load balancers and orchestrators, without cookies or sessions.
type probes struct {
	db interface{ Ping(context.Context) error }
}

// healthz says the process is up.
func (p *probes) healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok")
}

// readyz says the database answers; load balancers send no traffic until it does.
func (p *probes) readyz(c echo.Context) error {
	if err := p.db.Ping(c.Request().Context()); err != nil {
		return c.String(http.StatusServiceUnavailable, "database unavailable")
	}
	return c.String(http.StatusOK, "ready")
}
