-- +goose Up
-- Users search matches a part of an email or of a name with LIKE '%…%': SQLite has no index for
-- that (no pg_trgm), so such a search reads the account's users (docs/admin-guide.md says what
-- it costs). The other indexes are PostgreSQL's twins.
-- The list's total counts up to 10,001 matching users: with the filters' columns in one index
-- that count reads the index only, however the filters combine.
CREATE INDEX sdp_users_account_state_idx ON sdp_users (account_id, status, activation, mfa_configured, had_code, origin);

-- The Devices page: newest first, by platform, active or signed out (the Overview counts the
-- active ones).
CREATE INDEX devices_account_id_idx ON devices (account_id, id);
CREATE INDEX devices_account_platform_idx ON devices (account_id, platform, id);
CREATE INDEX devices_account_active_idx ON devices (account_id, id) WHERE revoked_at IS NULL;
CREATE INDEX devices_account_signed_out_idx ON devices (account_id, id) WHERE revoked_at IS NOT NULL;

-- The Overview's counts (each a LIMIT subquery an index serves alone): active codes, held and
-- failed mail.
CREATE INDEX registration_codes_open_expiry_idx ON registration_codes (account_id, expires_at) WHERE used_at IS NULL AND revoked_at IS NULL;
CREATE INDEX mail_messages_account_status_idx ON mail_messages (account_id, status);

-- +goose Down
DROP INDEX mail_messages_account_status_idx;
DROP INDEX registration_codes_open_expiry_idx;
DROP INDEX devices_account_signed_out_idx;
DROP INDEX devices_account_active_idx;
DROP INDEX devices_account_platform_idx;
DROP INDEX devices_account_id_idx;
DROP INDEX sdp_users_account_state_idx;
