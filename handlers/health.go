package handlers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"
)

// probes answer load balancers and orchestrators, without cookies or sessions.
type probes struct {
	db interface{ Ping(context.Context) error }
	// draining says that the server is shutting down: it still serves, but wants no new traffic.
	draining func() bool
}

// healthz says the process is up.
func (p *probes) healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok")
}

// readyz says the database answers; load balancers send no traffic until it does. From the
// start of a shutdown it answers 503 while the server still serves (the drain delay), so
// that load balancers stop sending requests before the listener closes.
func (p *probes) readyz(c echo.Context) error {
	if p.draining() {
		return c.String(http.StatusServiceUnavailable, "shutting down")
	}
	if err := p.db.Ping(c.Request().Context()); err != nil {
		return c.String(http.StatusServiceUnavailable, "database unavailable")
	}
	return c.String(http.StatusOK, "ready")
}
