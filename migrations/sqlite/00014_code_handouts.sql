-- +goose Up
-- Codes reach the person. A handout is the batch of codes one admin (or helpdesk agent) just
-- generated: its result page shows them once (shown_at) and its CSV downloads once
-- (downloaded_at), for that admin only; the codes themselves stay sealed in registration_codes,
-- which name their handout. A background Users action keeps its handout by run_id.
CREATE TABLE code_handouts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    admin_id      INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    run_id        INTEGER REFERENCES runs (id) ON DELETE CASCADE,
    emailed       BOOLEAN NOT NULL DEFAULT FALSE, -- email_code: the codes were mailed too
    created_at    DATETIME NOT NULL,
    shown_at      DATETIME,
    -- What generating them did, for the result page: codes generated, users skipped (of
    -- whom skipped_mfa had MFA configured).
    generated     INTEGER NOT NULL DEFAULT 0,
    skipped       INTEGER NOT NULL DEFAULT 0,
    skipped_mfa   INTEGER NOT NULL DEFAULT 0,
    downloaded_at DATETIME
);
CREATE INDEX code_handouts_admin_idx ON code_handouts (admin_id);
CREATE UNIQUE INDEX code_handouts_run_idx ON code_handouts (run_id) WHERE run_id IS NOT NULL;

-- Who generated a code now says the role (admin or helpdesk) and "creation" (automatic, when a
-- user is created under the Registration Code method); each way a code was delivered is
-- recorded (shown on screen, in a CSV, emailed), and the address that used it. SQLite cannot
-- change a CHECK constraint: the table is rebuilt.
CREATE TABLE registration_codes_new (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id            INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    sdp_user_id           INTEGER NOT NULL REFERENCES sdp_users (id) ON DELETE CASCADE,
    lookup_hash           TEXT NOT NULL UNIQUE,
    encrypted             TEXT NOT NULL DEFAULT '',
    generated_by          TEXT NOT NULL CHECK (generated_by IN ('admin', 'helpdesk', 'bulk', 'creation')),
    generated_by_admin_id INTEGER REFERENCES admins (id) ON DELETE SET NULL,
    created_at            DATETIME NOT NULL,
    expires_at            DATETIME NOT NULL,
    used_at               DATETIME,
    revoked_at            DATETIME,
    device_id             INTEGER REFERENCES devices (id) ON DELETE SET NULL,
    handout_id            INTEGER REFERENCES code_handouts (id) ON DELETE SET NULL,
    shown_at              DATETIME,
    csv_at                DATETIME,
    emailed_at            DATETIME,
    used_ip               TEXT NOT NULL DEFAULT ''
);
INSERT INTO registration_codes_new (id, account_id, sdp_user_id, lookup_hash, encrypted, generated_by, generated_by_admin_id, created_at, expires_at, used_at, revoked_at, device_id)
    SELECT id, account_id, sdp_user_id, lookup_hash, encrypted, generated_by, generated_by_admin_id, created_at, expires_at, used_at, revoked_at, device_id FROM registration_codes;
-- Keep the id sequence, so that no id of a deleted code is given again.
DELETE FROM sqlite_sequence WHERE name = 'registration_codes_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'registration_codes_new', seq FROM sqlite_sequence WHERE name = 'registration_codes';
DROP TABLE registration_codes;
ALTER TABLE registration_codes_new RENAME TO registration_codes;
CREATE INDEX registration_codes_account_user_idx ON registration_codes (account_id, sdp_user_id, id);
CREATE INDEX registration_codes_open_idx ON registration_codes (account_id, id) WHERE used_at IS NULL AND revoked_at IS NULL;
CREATE INDEX registration_codes_wipe_idx ON registration_codes (expires_at) WHERE encrypted <> '';
CREATE INDEX registration_codes_user_idx ON registration_codes (sdp_user_id);
CREATE INDEX registration_codes_handout_idx ON registration_codes (handout_id) WHERE handout_id IS NOT NULL;

-- +goose Down
CREATE TABLE registration_codes_new (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id            INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    sdp_user_id           INTEGER NOT NULL REFERENCES sdp_users (id) ON DELETE CASCADE,
    lookup_hash           TEXT NOT NULL UNIQUE,
    encrypted             TEXT NOT NULL DEFAULT '',
    generated_by          TEXT NOT NULL CHECK (generated_by IN ('admin', 'bulk')),
    generated_by_admin_id INTEGER REFERENCES admins (id) ON DELETE SET NULL,
    created_at            DATETIME NOT NULL,
    expires_at            DATETIME NOT NULL,
    used_at               DATETIME,
    revoked_at            DATETIME,
    device_id             INTEGER REFERENCES devices (id) ON DELETE SET NULL
);
INSERT INTO registration_codes_new (id, account_id, sdp_user_id, lookup_hash, encrypted, generated_by, generated_by_admin_id, created_at, expires_at, used_at, revoked_at, device_id)
    SELECT id, account_id, sdp_user_id, lookup_hash, encrypted, CASE WHEN generated_by IN ('helpdesk', 'creation') THEN 'admin' ELSE generated_by END, generated_by_admin_id, created_at, expires_at, used_at, revoked_at, device_id FROM registration_codes;
-- Keep the id sequence, so that no id of a deleted code is given again.
DELETE FROM sqlite_sequence WHERE name = 'registration_codes_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'registration_codes_new', seq FROM sqlite_sequence WHERE name = 'registration_codes';
DROP TABLE registration_codes;
ALTER TABLE registration_codes_new RENAME TO registration_codes;
CREATE INDEX registration_codes_account_user_idx ON registration_codes (account_id, sdp_user_id, id);
CREATE INDEX registration_codes_open_idx ON registration_codes (account_id, id) WHERE used_at IS NULL AND revoked_at IS NULL;
CREATE INDEX registration_codes_wipe_idx ON registration_codes (expires_at) WHERE encrypted <> '';
CREATE INDEX registration_codes_user_idx ON registration_codes (sdp_user_id);
DROP TABLE code_handouts;
