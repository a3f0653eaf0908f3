-- +goose Up
-- Every email Onramp sends, rendered when it is queued: the outbox page lists these rows, and the
-- delivery job (River, whose own tables the migrate step creates after goose) only refers to one
-- by id, so that no body or link ever sits in the jobs table.
CREATE TABLE mail_messages (
    id          BIGSERIAL PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- Kept when the user is deleted: the message stays in the outbox as a record.
    sdp_user_id BIGINT REFERENCES sdp_users (id) ON DELETE SET NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('invitation', 'disabled_notice')),
    to_email    TEXT NOT NULL,
    subject     TEXT NOT NULL,
    text_body   TEXT NOT NULL,
    html_body   TEXT NOT NULL,
    message_id  TEXT NOT NULL UNIQUE,
    status      TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'retrying', 'failed', 'held')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    sent_at     TIMESTAMPTZ
);
CREATE INDEX mail_messages_account_idx ON mail_messages (account_id, id DESC);
-- Deleting users sets their messages' sdp_user_id to NULL: without this index each deleted user
-- would scan the table.
CREATE INDEX mail_messages_user_idx ON mail_messages (sdp_user_id) WHERE sdp_user_id IS NOT NULL;

-- +goose Down
DROP TABLE mail_messages;
