-- +goose Up
-- An LDAP directory's connection and sync settings (one row per directory of kind 'ldap').
-- The bind password is sealed (AES-256-GCM, a key derived from ONRAMP_SECRET, the directory id
-- as associated data). The attribute columns hold the mapping, filled from a preset (ad or
-- openldap) and editable. The safety limits stop a sync that would disable or delete more
-- than limit_count users or limit_percent of the directory's users, whichever is smaller.
CREATE TABLE directory_ldap (
    directory_id    INTEGER PRIMARY KEY REFERENCES directories (id) ON DELETE CASCADE,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    url             TEXT NOT NULL,
    start_tls       BOOLEAN NOT NULL DEFAULT FALSE,
    ca_pem          TEXT NOT NULL DEFAULT '',
    skip_verify     BOOLEAN NOT NULL DEFAULT FALSE,
    bind_dn         TEXT NOT NULL,
    password_sealed TEXT NOT NULL DEFAULT '',
    base_dn         TEXT NOT NULL,
    user_filter     TEXT NOT NULL DEFAULT '',
    group_dn        TEXT NOT NULL DEFAULT '',
    preset          TEXT NOT NULL CHECK (preset IN ('ad', 'openldap')),
    attr_id         TEXT NOT NULL,
    attr_email      TEXT NOT NULL,
    attr_first_name TEXT NOT NULL DEFAULT '',
    attr_last_name  TEXT NOT NULL DEFAULT '',
    attr_phone      TEXT NOT NULL DEFAULT '',
    disabled_attr   TEXT NOT NULL DEFAULT '',
    disabled_value  TEXT NOT NULL DEFAULT '',
    schedule_hours  INTEGER NOT NULL DEFAULT 0 CHECK (schedule_hours >= 0),
    limit_count     INTEGER NOT NULL DEFAULT 10 CHECK (limit_count >= 0),
    limit_percent   INTEGER NOT NULL DEFAULT 10 CHECK (limit_percent BETWEEN 0 AND 100),
    next_sync_at    DATETIME,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
CREATE UNIQUE INDEX directory_ldap_account_idx ON directory_ldap (account_id, directory_id);
CREATE INDEX directory_ldap_next_sync_idx ON directory_ldap (next_sync_at) WHERE next_sync_at IS NOT NULL;

-- One sync of an LDAP directory: its cause, progress, outcome and counts. A sync stopped
-- by a safety limit is 'blocked' until an admin approves one sync (approved_by on the next).
-- A directory has at most one open sync.
CREATE TABLE directory_syncs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    directory_id  INTEGER NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    cause         TEXT NOT NULL CHECK (cause IN ('manual', 'schedule', 'cli', 'approval')),
    status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'blocked')),
    seen          INTEGER NOT NULL DEFAULT 0,
    total         INTEGER NOT NULL DEFAULT 0,
    created       INTEGER NOT NULL DEFAULT 0,
    updated       INTEGER NOT NULL DEFAULT 0,
    disabled      INTEGER NOT NULL DEFAULT 0,
    deleted       INTEGER NOT NULL DEFAULT 0,
    unchanged     INTEGER NOT NULL DEFAULT 0,
    error         TEXT NOT NULL DEFAULT '',
    approved      BOOLEAN NOT NULL DEFAULT FALSE,
    admin_id      INTEGER REFERENCES admins (id) ON DELETE SET NULL,
    actor_type    TEXT NOT NULL DEFAULT '',
    actor_label   TEXT NOT NULL DEFAULT '',
    source_ip     TEXT NOT NULL DEFAULT '',
    created_at    DATETIME NOT NULL,
    started_at    DATETIME,
    finished_at   DATETIME,
    updated_at    DATETIME NOT NULL
);
CREATE INDEX directory_syncs_directory_idx ON directory_syncs (account_id, directory_id, id);
CREATE UNIQUE INDEX directory_syncs_open_idx ON directory_syncs (directory_id) WHERE status IN ('queued', 'running');

-- +goose Down
DROP TABLE directory_syncs;
DROP TABLE directory_ldap;
