package migrations

// SQLite's migration 00025 (PostgreSQL's is postgres/00025_sso_clients_console.sql): devices
// may be registered via sso, a CHECK constraint SQLite changes only by rebuilding the table
// (rebuild), so the whole migration is Go; its tables are the same as PostgreSQL's.

// devicesTable is the devices table (00005's columns) as devices_new, registered via one of vias.
func devicesTable(vias string) string {
	return `CREATE TABLE devices_new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id     INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    sdp_user_id    INTEGER NOT NULL REFERENCES sdp_users (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    platform       TEXT NOT NULL DEFAULT '',
    registered_via TEXT NOT NULL CHECK (registered_via IN (` + vias + `)),
    token_hash     TEXT NOT NULL UNIQUE,
    registered_at  DATETIME NOT NULL,
    last_seen_at   DATETIME NOT NULL,
    revoked_at     DATETIME,
    revoked_reason TEXT NOT NULL DEFAULT ''
)`
}

const devicesColumns = "id, account_id, sdp_user_id, name, platform, registered_via, token_hash, registered_at, last_seen_at, revoked_at, revoked_reason"

// devicesIndexes are the indexes of devices (00005 and 00017).
var devicesIndexes = []string{
	"CREATE INDEX devices_account_user_idx ON devices (account_id, sdp_user_id, id)",
	"CREATE INDEX devices_account_id_idx ON devices (account_id, id)",
	"CREATE INDEX devices_account_platform_idx ON devices (account_id, platform, id)",
	"CREATE INDEX devices_account_active_idx ON devices (account_id, id) WHERE revoked_at IS NULL",
	"CREATE INDEX devices_account_signed_out_idx ON devices (account_id, id) WHERE revoked_at IS NOT NULL",
}

// ssoClientsConsoleUp are 00025's new tables and column (see the PostgreSQL file for what they hold).
var ssoClientsConsoleUp = []string{
	`CREATE TABLE sso_client_logins (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id       INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    poll_hash        TEXT NOT NULL,
    link_hash        TEXT NOT NULL,
    device_name      TEXT NOT NULL,
    platform         TEXT NOT NULL DEFAULT '',
    source_ip        TEXT NOT NULL DEFAULT '',
    interval_seconds INTEGER NOT NULL CHECK (interval_seconds > 0),
    polls            INTEGER NOT NULL DEFAULT 0,
    browser_hash     TEXT NOT NULL DEFAULT '',
    sdp_user_id      INTEGER REFERENCES sdp_users (id) ON DELETE CASCADE,
    refusal          TEXT NOT NULL DEFAULT '',
    device_id        INTEGER REFERENCES devices (id) ON DELETE SET NULL,
    created_at       DATETIME NOT NULL,
    expires_at       DATETIME NOT NULL,
    polled_at        DATETIME,
    claimed_at       DATETIME,
    completed_at     DATETIME,
    used_at          DATETIME
)`,
	`CREATE UNIQUE INDEX sso_client_logins_poll_idx ON sso_client_logins (poll_hash)`,
	`CREATE UNIQUE INDEX sso_client_logins_link_idx ON sso_client_logins (link_hash)`,
	`CREATE INDEX sso_client_logins_expires_idx ON sso_client_logins (expires_at)`,
	`CREATE TABLE sso_console (
    account_id       INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    enabled          BOOLEAN NOT NULL DEFAULT FALSE,
    password_sign_in BOOLEAN NOT NULL DEFAULT TRUE,
    create_admins    BOOLEAN NOT NULL DEFAULT FALSE,
    admin_groups     TEXT NOT NULL DEFAULT '',
    helpdesk_groups  TEXT NOT NULL DEFAULT '',
    updated_at       DATETIME NOT NULL
)`,
	`ALTER TABLE admins ADD COLUMN break_glass BOOLEAN NOT NULL DEFAULT FALSE`,
}

var ssoClientsConsoleDown = []string{
	"ALTER TABLE admins DROP COLUMN break_glass",
	"DROP TABLE sso_console",
	"DROP TABLE sso_client_logins",
}
