package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"onramp/models/store"
)

// newLogger logs text in development and JSON in production, to stderr.
func newLogger(cfg config, w io.Writer) *slog.Logger {
	if cfg.dev() {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

// openStore connects to the configured database.
func openStore(ctx context.Context, cfg config, log *slog.Logger) (*store.Store, error) {
	s, err := store.Open(ctx, cfg.DatabaseURL, store.Options{SQLitePath: cfg.sqlitePath(), Logger: log})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// migrateUp applies pending migrations and logs how many ran.
func migrateUp(ctx context.Context, s *store.Store, log *slog.Logger) error {
	m, err := s.Migrator()
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
	log.Info("database migrated", "dialect", s.Dialect(), "applied", n, "version", current)
	return nil
}

func checkSchema(ctx context.Context, s *store.Store) error {
	m, err := s.Migrator()
	if err != nil {
		return err
	}
	if err := m.Check(ctx); err != nil {
		return fmt.Errorf("refusing to serve: %w", err)
	}
	return nil
}
