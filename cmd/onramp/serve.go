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
	"onramp/models/codes"
	"onramp/models/devices"
	"onramp/models/events"
	"onramp/models/password"
	"onramp/models/portal"
	"onramp/models/provisioning"
	"onramp/models/runs"
	"onramp/models/secret"
	"onramp/models/users"
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
	keys := secret.NewKeys(cfg.Secret)
	authSvc := auth.New(s, hasher, keys, auth.Config{IdleTimeout: cfg.SessionIdle, AbsoluteTimeout: cfg.SessionMax})
	portalSvc := portal.New(s, hasher, keys, portal.Config{IdleTimeout: cfg.PortalIdle, AbsoluteTimeout: cfg.PortalMax})
	runner := runs.New(s, log)
	codesSvc := codes.NewService(s, keys, codes.Config{Logger: log, Runs: runner})
	// One River client runs mail delivery, the runs (code generation, large user actions) and
	// the codes' expiry.
	outbox, err := newOutbox(cfg, s, log, codesSvc, runner) // mail.go
	if err != nil {
		return err
	}
	runner.UseQueue(outbox.Queue())
	devicesSvc := devices.New(s, codesSvc.Sealer(), portalSvc)
	router := handlers.New(handlers.Deps{
		Auth:         authSvc,
		Admins:       admins.New(s, hasher, authSvc.Config().PasswordLinkTTL),
		Users:        users.New(s, outbox, users.Config{BaseURL: cfg.BaseURL, ActivationTTL: cfg.ActivationTTL, Codes: codesSvc, Devices: devicesSvc, Runs: runner}),
		Provisioning: provisioning.New(s),
		Events:       events.New(s),
		DB:           s,
		Portal:       portalSvc,
		Devices:      devicesSvc,
		Codes:        codesSvc,
		Outbox:       outbox,
		Keys:         keys,
		BaseURL:      cfg.BaseURL,
		Secure:       cfg.secure(),
		Dev:          cfg.dev(),
		TrustProxy:   cfg.TrustProxy,
		Logger:       log,
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
		housekeeping(jobsCtx, log, authSvc.PurgeSessions, portalSvc.PurgeSessions)
	}()

	// Mail delivery and the codes jobs (River) run beside the housekeeping and stop with it,
	// before the database.
	if err := outbox.Start(ctx); err != nil {
		stopJobs()
		<-jobsDone
		return err
	}
	stopMail := func(ctx context.Context) {
		if err := outbox.Stop(ctx); err != nil {
			log.Warn("stopping mail delivery", "error", err)
		}
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		stopMail(context.Background())
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
	stopMail(shutCtx)
	stopJobs()
	<-jobsDone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	log.Info("stopped")
	return err
}

// housekeeping deletes expired sessions (console and portal) every ten minutes until ctx ends.
func housekeeping(ctx context.Context, log *slog.Logger, purges ...func(context.Context) (int64, error)) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, purge := range purges {
				if n, err := purge(ctx); err != nil {
					log.Warn("purging sessions failed", "error", err)
				} else if n > 0 {
					log.Info("purged expired sessions", "count", n)
				}
			}
		}
	}
}
