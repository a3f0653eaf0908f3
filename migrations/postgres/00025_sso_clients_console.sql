-- +goose Up
-- Devices may be registered via sso (the VPN client's sign-in with the identity provider).
ALTER TABLE devices DROP CONSTRAINT devices_registered_via_check;
ALTER TABLE devices ADD CONSTRAINT devices_registered_via_check CHECK (registered_via IN ('code', 'password', 'sso'));

-- A VPN client's sign-in with the account's identity provider (the device flow,
-- docs/sso.md#the-vpn-client). The client holds the poll token, the browser the link: only
-- their hashes are kept. A browser claims the link (browser_hash, the hash of a cookie it
-- got), signs in with the provider, and the sign-in completes the row with the user or a
-- refusal; the client's next poll turns it into a device, once (used_at). polled_at and
-- interval_seconds pace the polls across replicas (slow_down); polls counts them, so that of
-- two concurrent polls one wins.
CREATE TABLE sso_client_logins (
    id               BIGSERIAL PRIMARY KEY,
    account_id       BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    poll_hash        TEXT COLLATE "C" NOT NULL,
    link_hash        TEXT COLLATE "C" NOT NULL,
    device_name      TEXT NOT NULL,
    platform         TEXT NOT NULL DEFAULT '',
    source_ip        TEXT NOT NULL DEFAULT '',
    interval_seconds INTEGER NOT NULL CHECK (interval_seconds > 0),
    polls            INTEGER NOT NULL DEFAULT 0,
    browser_hash     TEXT NOT NULL DEFAULT '',
    sdp_user_id      BIGINT REFERENCES sdp_users (id) ON DELETE CASCADE,
    refusal          TEXT NOT NULL DEFAULT '',
    device_id        BIGINT REFERENCES devices (id) ON DELETE SET NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    polled_at        TIMESTAMPTZ,
    claimed_at       TIMESTAMPTZ,
    completed_at     TIMESTAMPTZ,
    used_at          TIMESTAMPTZ
);
CREATE UNIQUE INDEX sso_client_logins_poll_idx ON sso_client_logins (poll_hash);
CREATE UNIQUE INDEX sso_client_logins_link_idx ON sso_client_logins (link_hash);
CREATE INDEX sso_client_logins_expires_idx ON sso_client_logins (expires_at);

-- How an account's admins sign in to the console: with the identity provider when enabled;
-- with a password only when password_sign_in is on or they are break-glass admins; admins
-- unknown to Onramp are created on first sign-in when create_admins is on, with the role of
-- the first matching group (admin_groups, then helpdesk_groups: names separated by commas).
CREATE TABLE sso_console (
    account_id       BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    enabled          BOOLEAN NOT NULL DEFAULT FALSE,
    password_sign_in BOOLEAN NOT NULL DEFAULT TRUE,
    create_admins    BOOLEAN NOT NULL DEFAULT FALSE,
    admin_groups     TEXT NOT NULL DEFAULT '',
    helpdesk_groups  TEXT NOT NULL DEFAULT '',
    updated_at       TIMESTAMPTZ NOT NULL
);

-- Break-glass admins keep password sign-in when the account turns it off for everyone else.
ALTER TABLE admins ADD COLUMN break_glass BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE admins DROP COLUMN break_glass;
DROP TABLE sso_console;
DROP TABLE sso_client_logins;
ALTER TABLE devices DROP CONSTRAINT devices_registered_via_check;
ALTER TABLE devices ADD CONSTRAINT devices_registered_via_check CHECK (registered_via IN ('code', 'password'));
