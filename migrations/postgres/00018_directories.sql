-- +goose Up
-- A directory is an identity source of an account: SCIM pushes users, LDAP (later) is pulled.
CREATE TABLE directories (
    id         BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('scim', 'ldap')),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX directories_account_name_idx ON directories (account_id, name);

-- SCIM bearer tokens: only the hash is kept; a revoked token stays for the record.
CREATE TABLE directory_tokens (
    id           BIGSERIAL PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    directory_id BIGINT NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT COLLATE "C" NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    last_used_ip TEXT NOT NULL DEFAULT '',
    revoked_at   TIMESTAMPTZ
);
CREATE UNIQUE INDEX directory_tokens_hash_idx ON directory_tokens (token_hash);
CREATE INDEX directory_tokens_directory_idx ON directory_tokens (account_id, directory_id);

-- The directory that created a user, its id for them (SCIM externalId) and their userName as
-- the directory spells it (Entra ID's is the UPN, not always the email), unique per directory
-- case-insensitively.
ALTER TABLE sdp_users ADD COLUMN directory_id BIGINT REFERENCES directories (id) ON DELETE SET NULL;
ALTER TABLE sdp_users ADD COLUMN external_id TEXT;
ALTER TABLE sdp_users ADD COLUMN user_name TEXT;
CREATE UNIQUE INDEX sdp_users_directory_external_idx ON sdp_users (account_id, directory_id, external_id)
    WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX sdp_users_directory_user_name_idx ON sdp_users (account_id, directory_id, lower(user_name))
    WHERE user_name IS NOT NULL;

-- +goose Down
DROP INDEX sdp_users_directory_user_name_idx;
DROP INDEX sdp_users_directory_external_idx;
ALTER TABLE sdp_users DROP COLUMN user_name;
ALTER TABLE sdp_users DROP COLUMN external_id;
ALTER TABLE sdp_users DROP COLUMN directory_id;
DROP TABLE directory_tokens;
DROP TABLE directories;
