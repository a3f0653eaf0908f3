-- +goose Up
-- Users search matches a part of an email or of a name ("acme.test", "ann" in Joanna): LIKE
-- '%…%', which b-trees cannot serve. pg_trgm's GIN indexes can, for searches of 3 characters
-- or more (shorter ones stay prefix searches on the indexes of 00002). pg_trgm is a trusted
-- contrib extension: the database owner may create it. An extension belongs to the whole
-- database but lives in one schema: it goes to public, and the indexes name its operator class
-- in whichever schema holds it, so that Onramp's tables may live in any schema (one database
-- serving several schemas finds the extension there).
-- +goose StatementBegin
DO $$
DECLARE
    trgm text;
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
    SELECT n.nspname INTO trgm FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    EXECUTE format('CREATE INDEX sdp_users_email_trgm_idx ON sdp_users USING gin (email %I.gin_trgm_ops)', trgm);
    EXECUTE format('CREATE INDEX sdp_users_name_trgm_idx ON sdp_users USING gin (lower(first_name || '' '' || last_name) %I.gin_trgm_ops)', trgm);
    EXECUTE format('CREATE INDEX devices_name_trgm_idx ON devices USING gin (lower(name) %I.gin_trgm_ops)', trgm);
END
$$;
-- +goose StatementEnd
-- The list's total counts up to 10,001 matching users: with the filters' columns in one index
-- that count reads the index only, however the filters combine (without it, status and MFA
-- together read 20,000 heap pages of a million users).
CREATE INDEX sdp_users_account_state_idx ON sdp_users (account_id, status, activation) INCLUDE (mfa_configured, had_code, origin);

-- The Devices page: newest first, by platform, active or signed out (the Overview counts the
-- active ones); the search on the device name has its trigram index above.
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
DROP INDEX devices_name_trgm_idx;
DROP INDEX devices_account_signed_out_idx;
DROP INDEX devices_account_active_idx;
DROP INDEX devices_account_platform_idx;
DROP INDEX devices_account_id_idx;
DROP INDEX sdp_users_account_state_idx;
DROP INDEX sdp_users_name_trgm_idx;
DROP INDEX sdp_users_email_trgm_idx;
