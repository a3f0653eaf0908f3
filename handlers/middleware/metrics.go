package middleware

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"onramp/models/metrics"
)

// Metrics records every request's method, route pattern, status and latency (models/metrics).
// Place it outside RequestLogger, which hands errors to the error handler: the status is then
// the one sent. known says whether a route pattern is one of the route table's: anything else
// (no route matched; a redirect of the trailing slash) is counted as metrics.UnmatchedRoute.
func Metrics(m *metrics.Metrics, known func(route string) bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			route := c.Path()
			if !known(route) {
				route = metrics.UnmatchedRoute
			}
			status := c.Response().Status
			if !c.Response().Committed && err != nil {
				status = http.StatusInternalServerError // not answered yet: the error handler will
			}
			m.Request(method(c.Request().Method), route, status, time.Since(start))
			return err
		}
	}
}

// method is the request's method when it is a standard one, else "other": a label takes
// only a few values.
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}
