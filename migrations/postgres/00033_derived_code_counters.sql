-- +goose Up
-- A user's "ever had a code" and "active codes" are read from their codes instead of being kept
-- on their row: every change of a user's row writes a new version of it into each of the
-- table's 18 indexes (none of those updates can be HOT, the table's pages being full), so that
-- keeping the two counters cost more than the code rows themselves (generating 100,000 codes:
-- 8.5 s of counter updates beside 4 s of code rows). Codes are never deleted while their user
-- exists, so "never had a code" is "has no code", which the index of the codes by user
-- answers; dropping a column is a change of the catalog only.
DROP INDEX sdp_users_account_nocode_idx;
DROP INDEX sdp_users_account_state_idx;
CREATE INDEX sdp_users_account_state_idx ON sdp_users (account_id, status, activation) INCLUDE (mfa_configured, origin);
ALTER TABLE sdp_users DROP COLUMN had_code, DROP COLUMN active_codes;

-- +goose Down
ALTER TABLE sdp_users ADD COLUMN had_code BOOLEAN NOT NULL DEFAULT FALSE, ADD COLUMN active_codes INTEGER NOT NULL DEFAULT 0;
UPDATE sdp_users u SET had_code = TRUE,
    active_codes = (SELECT COUNT(*) FROM registration_codes c WHERE c.sdp_user_id = u.id AND c.encrypted <> '')
WHERE EXISTS (SELECT 1 FROM registration_codes c WHERE c.sdp_user_id = u.id);
DROP INDEX sdp_users_account_state_idx;
CREATE INDEX sdp_users_account_state_idx ON sdp_users (account_id, status, activation) INCLUDE (mfa_configured, had_code, origin);
CREATE INDEX sdp_users_account_nocode_idx ON sdp_users (account_id, id) WHERE NOT had_code;
