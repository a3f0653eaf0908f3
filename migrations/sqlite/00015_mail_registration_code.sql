-- +goose Up
-- A registration code can be emailed to its user (Users action email_code): a new kind of
-- message, whose code is its secret (kept apart from the bodies until it is sent). SQLite
-- cannot change a CHECK constraint: the table is rebuilt.
CREATE TABLE mail_messages_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    sdp_user_id INTEGER REFERENCES sdp_users (id) ON DELETE SET NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('invitation', 'disabled_notice', 'registration_code')),
    to_email    TEXT NOT NULL,
    subject     TEXT NOT NULL,
    text_body   TEXT NOT NULL,
    html_body   TEXT NOT NULL,
    secret      TEXT NOT NULL DEFAULT '',
    message_id  TEXT NOT NULL UNIQUE,
    status      TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'retrying', 'failed', 'held', 'unknown')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    sent_at     DATETIME
);
INSERT INTO mail_messages_new (id, account_id, sdp_user_id, kind, to_email, subject, text_body, html_body, secret, message_id,
        status, attempts, last_error, created_at, updated_at, sent_at)
    SELECT id, account_id, sdp_user_id, kind, to_email, subject, text_body, html_body, secret, message_id,
        status, attempts, last_error, created_at, updated_at, sent_at FROM mail_messages;
-- Keep the id sequence, so that no id of a deleted message is given again.
DELETE FROM sqlite_sequence WHERE name = 'mail_messages_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'mail_messages_new', seq FROM sqlite_sequence WHERE name = 'mail_messages';
DROP TABLE mail_messages;
ALTER TABLE mail_messages_new RENAME TO mail_messages;
CREATE INDEX mail_messages_account_idx ON mail_messages (account_id, id DESC);
CREATE INDEX mail_messages_user_idx ON mail_messages (sdp_user_id) WHERE sdp_user_id IS NOT NULL;

-- +goose Down
DELETE FROM mail_messages WHERE kind = 'registration_code';
CREATE TABLE mail_messages_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    sdp_user_id INTEGER REFERENCES sdp_users (id) ON DELETE SET NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('invitation', 'disabled_notice')),
    to_email    TEXT NOT NULL,
    subject     TEXT NOT NULL,
    text_body   TEXT NOT NULL,
    html_body   TEXT NOT NULL,
    secret      TEXT NOT NULL DEFAULT '',
    message_id  TEXT NOT NULL UNIQUE,
    status      TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'retrying', 'failed', 'held', 'unknown')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    sent_at     DATETIME
);
INSERT INTO mail_messages_new (id, account_id, sdp_user_id, kind, to_email, subject, text_body, html_body, secret, message_id,
        status, attempts, last_error, created_at, updated_at, sent_at)
    SELECT id, account_id, sdp_user_id, kind, to_email, subject, text_body, html_body, secret, message_id,
        status, attempts, last_error, created_at, updated_at, sent_at FROM mail_messages;
-- Keep the id sequence, so that no id of a deleted message is given again.
DELETE FROM sqlite_sequence WHERE name = 'mail_messages_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'mail_messages_new', seq FROM sqlite_sequence WHERE name = 'mail_messages';
DROP TABLE mail_messages;
ALTER TABLE mail_messages_new RENAME TO mail_messages;
CREATE INDEX mail_messages_account_idx ON mail_messages (account_id, id DESC);
CREATE INDEX mail_messages_user_idx ON mail_messages (sdp_user_id) WHERE sdp_user_id IS NOT NULL;
