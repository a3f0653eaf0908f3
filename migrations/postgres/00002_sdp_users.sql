-- +goose Up
ALTER TABLE accounts ADD COLUMN provisioning_method TEXT NOT NULL DEFAULT 'invitation_email'
    CHECK (provisioning_method IN ('invitation_email', 'registration_code'));
ALTER TABLE accounts ADD COLUMN invite_manual BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE accounts ADD COLUMN invite_directory BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE accounts ADD COLUMN notify_disabled BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE accounts ADD COLUMN code_expiry_hours INTEGER NOT NULL DEFAULT 168;
ALTER TABLE accounts ADD COLUMN code_expiry_unit TEXT NOT NULL DEFAULT 'days' CHECK (code_expiry_unit IN ('hours', 'days'));
ALTER TABLE accounts ADD COLUMN sso_enabled BOOLEAN NOT NULL DEFAULT FALSE;

-- Emails compare byte-wise (they are stored lowercased), so that a b-tree serves prefix search.
CREATE TABLE sdp_users (
    id             BIGSERIAL PRIMARY KEY,
    account_id     BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    first_name     TEXT NOT NULL,
    last_name      TEXT NOT NULL,
    email          TEXT COLLATE "C" NOT NULL,
    phone          TEXT NOT NULL DEFAULT '',
    origin         TEXT NOT NULL DEFAULT 'manual',
    status         TEXT NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
    activation     TEXT NOT NULL DEFAULT 'new' CHECK (activation IN ('new', 'invitation_sent', 'active')),
    mfa_configured BOOLEAN NOT NULL DEFAULT FALSE,
    totp_secret    TEXT NOT NULL DEFAULT '',
    password_hash  TEXT NOT NULL DEFAULT '',
    name_key       TEXT COLLATE "C" NOT NULL DEFAULT '',
    had_code       BOOLEAN NOT NULL DEFAULT FALSE,
    active_codes   INTEGER NOT NULL DEFAULT 0,
    devices        INTEGER NOT NULL DEFAULT 0,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX sdp_users_account_email_idx ON sdp_users (account_id, email);
CREATE INDEX sdp_users_account_id_idx ON sdp_users (account_id, id);
CREATE INDEX sdp_users_account_created_idx ON sdp_users (account_id, created_at, id);
CREATE INDEX sdp_users_account_name_idx ON sdp_users (account_id, name_key, id);
CREATE INDEX sdp_users_account_first_idx ON sdp_users (account_id, lower(first_name) text_pattern_ops);
CREATE INDEX sdp_users_account_last_idx ON sdp_users (account_id, lower(last_name) text_pattern_ops);
CREATE INDEX sdp_users_account_status_idx ON sdp_users (account_id, status, id);
CREATE INDEX sdp_users_account_activation_idx ON sdp_users (account_id, activation, id);
CREATE INDEX sdp_users_account_origin_idx ON sdp_users (account_id, origin, id);
CREATE INDEX sdp_users_account_mfa_idx ON sdp_users (account_id, id) WHERE mfa_configured;
CREATE INDEX sdp_users_account_nocode_idx ON sdp_users (account_id, id) WHERE NOT had_code;

ALTER TABLE one_time_tokens ADD COLUMN sdp_user_id BIGINT REFERENCES sdp_users (id) ON DELETE CASCADE;
CREATE INDEX one_time_tokens_user_idx ON one_time_tokens (sdp_user_id, purpose);

CREATE TABLE portal_sessions (
    id           TEXT PRIMARY KEY,
    sdp_user_id  BIGINT NOT NULL REFERENCES sdp_users (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX portal_sessions_user_idx ON portal_sessions (sdp_user_id);

ALTER TABLE events ADD COLUMN sdp_user_id BIGINT;
CREATE INDEX events_account_user_idx ON events (account_id, sdp_user_id, occurred_at DESC, id DESC);

-- +goose Down
DROP INDEX events_account_user_idx;
ALTER TABLE events DROP COLUMN sdp_user_id;
DROP TABLE portal_sessions;
ALTER TABLE one_time_tokens DROP COLUMN sdp_user_id;
DROP TABLE sdp_users;
ALTER TABLE accounts DROP COLUMN sso_enabled;
ALTER TABLE accounts DROP COLUMN code_expiry_unit;
ALTER TABLE accounts DROP COLUMN code_expiry_hours;
ALTER TABLE accounts DROP COLUMN notify_disabled;
ALTER TABLE accounts DROP COLUMN invite_directory;
ALTER TABLE accounts DROP COLUMN invite_manual;
ALTER TABLE accounts DROP COLUMN provisioning_method;
