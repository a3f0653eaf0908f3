-- +goose Up
-- An account's OpenID provider for single sign-on (docs/sso.md). accounts.sso_enabled stays the
-- switch; this row is the connection. The client secret is sealed (AES-256-GCM, a key derived
-- from ONRAMP_SECRET, the account id as associated data) and never shown again.
CREATE TABLE sso_settings (
    account_id        INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    issuer            TEXT NOT NULL,
    client_id         TEXT NOT NULL,
    secret_sealed     TEXT NOT NULL,
    scopes            TEXT NOT NULL DEFAULT 'openid email profile',
    email_claim       TEXT NOT NULL DEFAULT 'email',
    no_email_verified BOOLEAN NOT NULL DEFAULT 0,
    groups_claim      TEXT NOT NULL DEFAULT '',
    create_users      BOOLEAN NOT NULL DEFAULT 0,
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL
);

-- One sign-in attempt at the provider, from the redirect to the callback (a few minutes):
-- keyed by the SHA-256 of its state, bound to the browser that began it by the hash of a
-- random cookie value, used once (used_at). Rows are purged a day after they expire.
CREATE TABLE sso_logins (
    state_hash      TEXT PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose         TEXT NOT NULL CHECK (purpose IN ('portal', 'client', 'console')),
    payload         TEXT NOT NULL DEFAULT '',
    nonce           TEXT NOT NULL,
    verifier_sealed TEXT NOT NULL,
    binding_hash    TEXT NOT NULL,
    expires_at      DATETIME NOT NULL,
    used_at         DATETIME,
    created_at      DATETIME NOT NULL
);
CREATE INDEX sso_logins_expires_idx ON sso_logins (expires_at);

-- +goose Down
DROP TABLE sso_logins;
DROP TABLE sso_settings;
