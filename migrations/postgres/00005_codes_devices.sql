-- +goose Up
CREATE TABLE devices (
    id             BIGSERIAL PRIMARY KEY,
    account_id     BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    sdp_user_id    BIGINT NOT NULL REFERENCES sdp_users (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    platform       TEXT NOT NULL DEFAULT '',
    registered_via TEXT NOT NULL CHECK (registered_via IN ('code', 'password')),
    token_hash     TEXT NOT NULL UNIQUE,
    registered_at  TIMESTAMPTZ NOT NULL,
    last_seen_at   TIMESTAMPTZ NOT NULL,
    revoked_at     TIMESTAMPTZ,
    revoked_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX devices_account_user_idx ON devices (account_id, sdp_user_id, id);

-- A code is found on redemption by the HMAC of its text (lookup_hash); the encrypted copy lets
-- admins download it while it is active and is wiped ('') once it is used, revoked or expired.
CREATE TABLE registration_codes (
    id                    BIGSERIAL PRIMARY KEY,
    account_id            BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    sdp_user_id           BIGINT NOT NULL REFERENCES sdp_users (id) ON DELETE CASCADE,
    lookup_hash           TEXT NOT NULL UNIQUE,
    encrypted             TEXT NOT NULL DEFAULT '',
    generated_by          TEXT NOT NULL CHECK (generated_by IN ('admin', 'bulk')),
    generated_by_admin_id BIGINT REFERENCES admins (id) ON DELETE SET NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    expires_at            TIMESTAMPTZ NOT NULL,
    used_at               TIMESTAMPTZ,
    revoked_at            TIMESTAMPTZ,
    device_id             BIGINT REFERENCES devices (id) ON DELETE SET NULL
);
CREATE INDEX registration_codes_account_user_idx ON registration_codes (account_id, sdp_user_id, id);
CREATE INDEX registration_codes_open_idx ON registration_codes (account_id, id) WHERE used_at IS NULL AND revoked_at IS NULL;
CREATE INDEX registration_codes_wipe_idx ON registration_codes (expires_at) WHERE encrypted <> '';

ALTER TABLE events ADD COLUMN device_id BIGINT;

-- +goose Down
ALTER TABLE events DROP COLUMN device_id;
DROP TABLE registration_codes;
DROP TABLE devices;
