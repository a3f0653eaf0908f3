package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"onramp/models/store"
)

// opened is what every subcommand that uses the database starts from: the configuration, the
// logger and the store.
type opened struct {
	cfg   config
	log   *slog.Logger
	store *store.Store
	// fresh is set when migrate found an empty database and set it up.
	fresh bool
}

// open reads the configuration, builds the logger, connects to the database and, with
// migrateUp, applies pending migrations. The caller closes o.store.
func open(ctx context.Context, getenv func(string) string, stderr io.Writer, migrateUp bool) (*opened, error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return nil, err
	}
	log := newLogger(cfg, stderr)
	s, err := store.Open(ctx, cfg.DatabaseURL, store.Options{SQLitePath: cfg.sqlitePath(), Logger: log})
	if err != nil {
		return nil, err
	}
	o := &opened{cfg: cfg, log: log, store: s}
	if migrateUp {
		if err := o.migrate(ctx); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return o, nil
}

// newLogger logs text in development and JSON in production, to stderr.
func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.dev() {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// migrate applies pending migrations and logs how many ran.
func (o *opened) migrate(ctx context.Context) error {
	m, err := o.store.Migrator()
	if err != nil {
		return err
	}
	before, _, err := m.Versions(ctx)
	if err != nil {
		return err
	}
	n, err := m.Up(ctx)
	if err != nil {
		return err
	}
	current, _, err := m.Versions(ctx)
	if err != nil {
		return err
	}
	o.fresh = before == 0 && n > 0
	o.log.Info("database migrated", "dialect", o.store.Dialect(), "applied", n, "version", current)
	return nil
}

// checkSchema refuses a schema that is not exactly this binary's.
func (o *opened) checkSchema(ctx context.Context) error {
	m, err := o.store.Migrator()
	if err != nil {
		return err
	}
	if err := m.Check(ctx); err != nil {
		return fmt.Errorf("refusing to serve: %w", err)
	}
	return nil
}
