package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"onramp/handlers"
	"onramp/models/auth"
	"onramp/models/secret"
	"onramp/models/services"
	"onramp/models/sessions"
	"onramp/models/stream"
	"onramp/views/emails"
)

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	noMigrate := fs.Bool("no-migrate", false, "do not migrate the database on start")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o, err := open(ctx, getenv, stderr, !*noMigrate)
	if err != nil {
		return err
	}
	defer o.store.Close()
	if err := o.checkSchema(ctx); err != nil {
		return err
	}
	cfg, log := o.cfg, o.log
	keys, sv, err := o.keyedServices(ctx)
	if err != nil {
		return err
	}
	var draining atomic.Bool
	router := handlers.New(sv, handlers.Config{Keys: keys, BaseURL: cfg.BaseURL, Secure: cfg.secure(), Debug: cfg.Debug,
		TrustProxy: cfg.TrustProxy, ClientDownloadURL: cfg.ClientDownloadURL, Draining: draining.Load, MetricsToken: cfg.MetricsToken, Logger: log})

	if token, err := sv.Auth.EnsureSetupLink(ctx); err != nil {
		return err
	} else if token != "" {
		// The one secret Onramp ever logs, on purpose: whoever can read the server's log on
		// first start is the one who sets it up. The link dies when it is used.
		log.Warn("no administrator yet: open the setup link to create the account and first admin",
			"setup_link", cfg.BaseURL+"/setup?token="+token)
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           router,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      10 * time.Minute, // long CSV exports stream for a while
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Mail delivery, the runs of bulk work and the periodic jobs.
	if err := sv.Jobs.Start(ctx); err != nil {
		_ = ln.Close()
		return err
	}
	log.Info("onramp is listening", "version", currentBuild().String(), "addr", ln.Addr().String(), "url", cfg.BaseURL, "env", cfg.Env,
		"database", string(o.store.Dialect()), "secret", cfg.secretSource, "debug", cfg.Debug)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	stopMetrics, err := serveMetrics(cfg, sv, serveErr, log) // metrics.go
	if err != nil {
		return errors.Join(err, shutdown(srv, sv, log))
	}
	defer stopMetrics()
	select {
	case err = <-serveErr:
	case <-ctx.Done():
		// /readyz fails at once; the listener stays open for the drain delay, long enough for
		// load balancers to notice and send their requests elsewhere.
		draining.Store(true)
		log.Info("shutting down: /readyz answers 503", "drain_delay", cfg.DrainDelay.String())
		time.Sleep(cfg.DrainDelay)
	}
	return errors.Join(err, shutdown(srv, sv, log))
}

// services builds the application's services from the configuration, as the server runs
// them: commands that do what the console does (directory sync) use the same.
func (o *opened) services(keys *secret.Keys) (*services.Services, error) {
	cfg := o.cfg
	mc, err := mailConfig(cfg, o.log)
	if err != nil {
		return nil, err
	}
	return services.New(o.store, services.Config{
		Keys:          keys,
		BaseURL:       cfg.BaseURL,
		ActivationTTL: cfg.ActivationTTL,
		Auth:          auth.Config{Sessions: sessions.Config{IdleTimeout: cfg.SessionIdle, AbsoluteTimeout: cfg.SessionMax}},
		Portal:        sessions.Config{IdleTimeout: cfg.PortalIdle, AbsoluteTimeout: cfg.PortalMax},
		Mail:          mc,
		Renderer:      emails.NewRenderer(cfg.BaseURL).WithClientDownload(cfg.ClientDownloadURL),
		// Development streams to receivers on this machine (http://localhost webhooks).
		Stream: stream.Config{AllowLoopback: cfg.dev(), Hostname: baseHost(cfg.BaseURL)},
		Logger: o.log,
	})
}

// baseHost is the host of the public URL: the HOSTNAME of syslog messages.
func baseHost(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// shutdown stops the server in order: HTTP first (no new requests; in-flight ones finish),
// then the jobs (running ones finish or are retried after a restart), and the database last
// (serve's deferred Close), so that nothing still running loses its connection.
func shutdown(srv *http.Server, sv *services.Services, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := srv.Shutdown(ctx)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if jerr := sv.Jobs.Stop(ctx); jerr != nil {
		log.Warn("stopping the jobs", "error", jerr)
	}
	log.Info("stopped")
	return err
}
