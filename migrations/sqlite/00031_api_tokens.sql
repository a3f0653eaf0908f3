-- +goose Up
-- Tokens of the admin REST API (/api/v1): only the SHA-256 of each token is kept (it is 256
-- random bits, so no salt or stretching is needed); a revoked token stays for the record.
-- admin_id is who created it: the codes it generates are handed out under that admin.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    admin_id     INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    token_hash   TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    expires_at   DATETIME,
    last_used_at DATETIME,
    last_used_ip TEXT NOT NULL DEFAULT '',
    revoked_at   DATETIME
);
CREATE UNIQUE INDEX api_tokens_hash_idx ON api_tokens (token_hash);
CREATE INDEX api_tokens_account_idx ON api_tokens (account_id, id);

-- Idempotency-Key: the first response to a creating POST, per token and key, replayed to a
-- retry for 24 hours. status 0 is a request still running. The body is sealed (AES-256-GCM):
-- it may hold registration codes.
CREATE TABLE api_idempotency_keys (
    token_id     INTEGER NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL DEFAULT 0,
    content_type TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    PRIMARY KEY (token_id, idem_key)
);
CREATE INDEX api_idempotency_keys_created_idx ON api_idempotency_keys (created_at);

-- +goose Down
DROP TABLE api_idempotency_keys;
DROP TABLE api_tokens;
