-- +goose Up
-- Event streaming (docs/streaming.md): an account's destinations (a webhook or a syslog
-- collector), what each wants (stream_filters: none means every event; a row with sub_type ''
-- means every sub-type of its type), the deliveries still to make and the log of the last
-- attempts. The webhook's signing secret is sealed (AES-256-GCM, a key derived from
-- ONRAMP_SECRET, the account id as associated data) and never shown again.
CREATE TABLE stream_destinations (
    id                BIGSERIAL PRIMARY KEY,
    account_id        BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind              TEXT NOT NULL CHECK (kind IN ('webhook', 'syslog')),
    name              TEXT NOT NULL,
    url               TEXT NOT NULL,
    secret_sealed     TEXT NOT NULL DEFAULT '',
    enabled           BOOLEAN NOT NULL DEFAULT TRUE,
    last_error        TEXT NOT NULL DEFAULT '',
    last_delivered_at TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX stream_destinations_account_idx ON stream_destinations (account_id, id);
CREATE INDEX stream_destinations_enabled_idx ON stream_destinations (account_id) WHERE enabled;

CREATE TABLE stream_filters (
    destination_id BIGINT NOT NULL REFERENCES stream_destinations (id) ON DELETE CASCADE,
    type           TEXT NOT NULL,
    sub_type       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (destination_id, type, sub_type)
);

-- One event still to deliver to one destination. txid is the writing transaction's id: the
-- worker delivers a destination's rows in (txid, id) order, and only those of transactions
-- older than every transaction still running in this database, so that a row committed late
-- never lands behind rows already sent (a sequence hands out ids in call order, not commit
-- order).
CREATE TABLE stream_deliveries (
    id             BIGSERIAL PRIMARY KEY,
    destination_id BIGINT NOT NULL REFERENCES stream_destinations (id) ON DELETE CASCADE,
    event_id       BIGINT NOT NULL,
    txid           BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX stream_deliveries_order_idx ON stream_deliveries (destination_id, txid, id);

-- The last attempts of each destination (the delivery log; the worker keeps the newest 50).
CREATE TABLE stream_attempts (
    id             BIGSERIAL PRIMARY KEY,
    destination_id BIGINT NOT NULL REFERENCES stream_destinations (id) ON DELETE CASCADE,
    event_id       BIGINT NOT NULL,
    attempted_at   TIMESTAMPTZ NOT NULL,
    ok             BOOLEAN NOT NULL,
    status         INTEGER NOT NULL DEFAULT 0,
    excerpt        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX stream_attempts_destination_idx ON stream_attempts (destination_id, id);

-- Every statement that inserts events (one row or an INSERT … SELECT of a hundred thousand)
-- queues their deliveries in the same transaction, once per statement: accounts without a
-- destination cost one probe of a tiny table.
-- +goose StatementBegin
CREATE FUNCTION stream_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM stream_destinations WHERE enabled) THEN
        RETURN NULL;
    END IF;
    INSERT INTO stream_deliveries (destination_id, event_id, txid)
    SELECT d.id, n.id, pg_current_xact_id()::text::bigint
    FROM new_events n
    JOIN stream_destinations d ON d.account_id = n.account_id AND d.enabled
    WHERE NOT EXISTS (SELECT 1 FROM stream_filters f WHERE f.destination_id = d.id)
       OR EXISTS (SELECT 1 FROM stream_filters f WHERE f.destination_id = d.id AND f.type = n.type
                  AND f.sub_type IN ('', n.sub_type))
    ORDER BY n.id, d.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER events_stream AFTER INSERT ON events REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION stream_enqueue();

-- Registration Code / Expiring is written once per code: expiry_warned_at marks the codes the
-- warning job has looked at.
ALTER TABLE registration_codes ADD COLUMN expiry_warned_at TIMESTAMPTZ;
CREATE INDEX registration_codes_warn_idx ON registration_codes (expires_at)
    WHERE used_at IS NULL AND revoked_at IS NULL AND expiry_warned_at IS NULL;

-- +goose Down
DROP INDEX registration_codes_warn_idx;
ALTER TABLE registration_codes DROP COLUMN expiry_warned_at;
DROP TRIGGER events_stream ON events;
DROP FUNCTION stream_enqueue();
DROP TABLE stream_attempts;
DROP TABLE stream_deliveries;
DROP TABLE stream_filters;
DROP TABLE stream_destinations;
