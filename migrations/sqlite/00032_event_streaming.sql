-- +goose Up
-- Event streaming: see the PostgreSQL twin for the tables. SQLite has one writer at a time, so
-- ids are handed out in commit order and txid stays 0.
CREATE TABLE stream_destinations (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind              TEXT NOT NULL CHECK (kind IN ('webhook', 'syslog')),
    name              TEXT NOT NULL,
    url               TEXT NOT NULL,
    secret_sealed     TEXT NOT NULL DEFAULT '',
    enabled           BOOLEAN NOT NULL DEFAULT 1,
    last_error        TEXT NOT NULL DEFAULT '',
    last_delivered_at DATETIME,
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL
);
CREATE INDEX stream_destinations_account_idx ON stream_destinations (account_id, id);
CREATE INDEX stream_destinations_enabled_idx ON stream_destinations (account_id) WHERE enabled;

CREATE TABLE stream_filters (
    destination_id INTEGER NOT NULL REFERENCES stream_destinations (id) ON DELETE CASCADE,
    type           TEXT NOT NULL,
    sub_type       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (destination_id, type, sub_type)
);

CREATE TABLE stream_deliveries (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    destination_id INTEGER NOT NULL REFERENCES stream_destinations (id) ON DELETE CASCADE,
    event_id       INTEGER NOT NULL,
    txid           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX stream_deliveries_order_idx ON stream_deliveries (destination_id, txid, id);

CREATE TABLE stream_attempts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    destination_id INTEGER NOT NULL REFERENCES stream_destinations (id) ON DELETE CASCADE,
    event_id       INTEGER NOT NULL,
    attempted_at   DATETIME NOT NULL,
    ok             BOOLEAN NOT NULL,
    status         INTEGER NOT NULL DEFAULT 0,
    excerpt        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX stream_attempts_destination_idx ON stream_attempts (destination_id, id);

-- A row trigger (SQLite has no statement triggers): an event of an account without an enabled
-- destination costs one probe of stream_destinations_enabled_idx.
-- +goose StatementBegin
CREATE TRIGGER events_stream AFTER INSERT ON events
WHEN NEW.account_id IS NOT NULL
    AND EXISTS (SELECT 1 FROM stream_destinations WHERE account_id = NEW.account_id AND enabled)
BEGIN
    INSERT INTO stream_deliveries (destination_id, event_id)
    SELECT d.id, NEW.id FROM stream_destinations d
    WHERE d.account_id = NEW.account_id AND d.enabled
      AND (NOT EXISTS (SELECT 1 FROM stream_filters f WHERE f.destination_id = d.id)
           OR EXISTS (SELECT 1 FROM stream_filters f WHERE f.destination_id = d.id AND f.type = NEW.type
                      AND f.sub_type IN ('', NEW.sub_type)))
    ORDER BY d.id;
END;
-- +goose StatementEnd

ALTER TABLE registration_codes ADD COLUMN expiry_warned_at DATETIME;
CREATE INDEX registration_codes_warn_idx ON registration_codes (expires_at)
    WHERE used_at IS NULL AND revoked_at IS NULL AND expiry_warned_at IS NULL;

-- +goose Down
DROP INDEX registration_codes_warn_idx;
ALTER TABLE registration_codes DROP COLUMN expiry_warned_at;
DROP TRIGGER events_stream;
DROP TABLE stream_attempts;
DROP TABLE stream_deliveries;
DROP TABLE stream_filters;
DROP TABLE stream_destinations;
