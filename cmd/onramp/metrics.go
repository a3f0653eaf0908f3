package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"onramp/handlers"
	"onramp/models/services"
)

// serveMetrics serves /metrics alone on ONRAMP_METRICS_ADDR, when it is set: an address that
// only the monitoring network reaches, say (docs/metrics.md). With ONRAMP_METRICS_TOKEN set
// too, the token is required there as well. A failure of that server ends serve through
// serveErr, as one of the main listener would. The returned stop closes it.
func serveMetrics(cfg config, sv *services.Services, serveErr chan<- error, log *slog.Logger) (stop func(), err error) {
	if cfg.MetricsAddr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+handlers.MetricsPath, handlers.MetricsHandler(sv.Metrics, cfg.MetricsToken, log))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: time.Minute, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			select {
			case serveErr <- err:
			default: // the main listener failed first: serve is ending already
			}
		}
	}()
	log.Info("metrics are served", "addr", ln.Addr().String(), "path", handlers.MetricsPath, "token", cfg.MetricsToken != "")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
