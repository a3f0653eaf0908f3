package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"onramp/handlers"
	"onramp/models/admins"
	"onramp/models/auth"
	"onramp/models/events"
	"onramp/models/password"
	"onramp/models/secret"
)

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	noMigrate := fs.Bool("no-migrate", false, "do not migrate the database on start")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	s, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.Close()
	if !*noMigrate {
		if err := migrateUp(ctx, s, log); err != nil {
			return err
		}
	}
	if err := checkSchema(ctx, s); err != nil {
		return err
	}

	hasher := password.NewHasher()
	authSvc := auth.New(s, hasher, auth.Config{IdleTimeout: cfg.SessionIdle, AbsoluteTimeout: cfg.SessionMax})
	router := handlers.New(handlers.Deps{
		Auth:       authSvc,
		Admins:     admins.New(s, hasher, authSvc.Config().PasswordLinkTTL),
		Events:     events.New(s),
		DB:         s,
		Keys:       secret.NewKeys(cfg.Secret),
		BaseURL:    cfg.BaseURL,
		Secure:     cfg.secure(),
		Dev:        cfg.dev(),
		TrustProxy: cfg.TrustProxy,
		Logger:     log,
	})

	if token, err := authSvc.EnsureSetupLink(ctx); err != nil {
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
	log.Info("onramp is listening", "addr", ln.Addr().String(), "url", cfg.BaseURL, "env", cfg.Env,
		"database", string(s.Dialect()), "secret", cfg.secretSource)

	jobsCtx, stopJobs := context.WithCancel(context.Background())
	jobsDone := make(chan struct{})
	go func() {
		defer close(jobsDone)
		housekeeping(jobsCtx, authSvc, log)
	}()

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		stopJobs()
		<-jobsDone
		return err
	case <-ctx.Done():
	}
	// Shutdown in order: stop taking requests and let in-flight ones finish, then the jobs,
	// then (deferred) the database.
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = srv.Shutdown(shutCtx)
	stopJobs()
	<-jobsDone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	log.Info("stopped")
	return err
}

// housekeeping deletes expired sessions every ten minutes until ctx ends.
func housekeeping(ctx context.Context, a *auth.Service, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := a.PurgeSessions(ctx); err != nil {
				log.Warn("purging sessions failed", "error", err)
			} else if n > 0 {
				log.Info("purged expired sessions", "count", n)
			}
		}
	}
}
