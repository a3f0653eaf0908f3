-- +goose Up
CREATE TABLE accounts (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE admins (
    id              BIGSERIAL PRIMARY KEY,
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email           TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'helpdesk')),
    status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    password_hash   TEXT NOT NULL DEFAULT '',
    last_sign_in_at TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX admins_account_idx ON admins (account_id, id);

CREATE TABLE admin_sessions (
    id           TEXT PRIMARY KEY,
    admin_id     BIGINT NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX admin_sessions_admin_idx ON admin_sessions (admin_id);

CREATE TABLE one_time_tokens (
    id         BIGSERIAL PRIMARY KEY,
    purpose    TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    account_id BIGINT REFERENCES accounts (id) ON DELETE CASCADE,
    admin_id   BIGINT REFERENCES admins (id) ON DELETE CASCADE,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX one_time_tokens_admin_idx ON one_time_tokens (admin_id, purpose);

CREATE TABLE events (
    id          BIGSERIAL PRIMARY KEY,
    account_id  BIGINT REFERENCES accounts (id) ON DELETE CASCADE,
    occurred_at TIMESTAMPTZ NOT NULL,
    type        TEXT NOT NULL,
    sub_type    TEXT NOT NULL,
    actor_type  TEXT NOT NULL,
    actor_id    BIGINT,
    actor_label TEXT NOT NULL DEFAULT '',
    email       TEXT NOT NULL DEFAULT '',
    source_ip   TEXT NOT NULL DEFAULT '',
    details     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_account_time_idx ON events (account_id, occurred_at DESC, id DESC);

-- +goose Down
DROP TABLE events;
DROP TABLE one_time_tokens;
DROP TABLE admin_sessions;
DROP TABLE admins;
DROP TABLE accounts;
