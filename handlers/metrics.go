package handlers

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"onramp/handlers/web"
	"onramp/models/metrics"
)

// MetricsPath is where the Prometheus series are served (docs/metrics.md).
const MetricsPath = "/metrics"

// MetricsHandler serves m's series in the Prometheus text format. With a token, only to
// requests that carry it ("Authorization: Bearer <token>"); others get 401. A gauge whose
// query fails (the database is down) is left out and logged; the counters are still served.
func MetricsHandler(m *metrics.Metrics, token string, log *slog.Logger) http.Handler {
	h := promhttp.HandlerFor(m.Registry(), promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	})
	if token == "" {
		return h
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Digests of equal length, compared in constant time: neither the token nor its length
		// leaks through the time of a refusal.
		got := sha256.Sum256([]byte(web.BearerToken(r)))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="onramp metrics"`)
			http.Error(w, "a valid bearer token is required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
