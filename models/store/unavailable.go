package store

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"

	"onramp/models"
)

// pgDialector is GORM's PostgreSQL dialect with one more translation of its errors (GORM calls
// Translate on every error with TranslateError on): a database that cannot be reached becomes
// models.ErrUnavailable, which the HTTP layer answers with 503 instead of 500.
type pgDialector struct{ *postgres.Dialector }

func (d pgDialector) Translate(err error) error { return unavailable(d.Dialector.Translate(err)) }

// unavailable wraps err in models.ErrUnavailable when it says that the database cannot be
// reached, rather than that a statement failed.
func unavailable(err error) error {
	if err == nil || errors.Is(err, models.ErrUnavailable) {
		return err
	}
	var (
		pgErr      *pgconn.PgError
		connectErr *pgconn.ConnectError
		netErr     net.Error
	)
	switch {
	case errors.As(err, &pgErr):
		// Class 08 is a connection exception; 57P01-57P03: the server is shutting down or
		// starting up; 53300: no connection slot left.
		if !strings.HasPrefix(pgErr.Code, "08") && !strings.HasPrefix(pgErr.Code, "57P0") && pgErr.Code != "53300" {
			return err
		}
	case errors.As(err, &connectErr), errors.As(err, &netErr), errors.Is(err, pgconn.ErrConnClosed), pgconn.SafeToRetry(err),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, io.ErrUnexpectedEOF):
	default:
		return err
	}
	return fmt.Errorf("%w: %w", models.ErrUnavailable, err)
}
