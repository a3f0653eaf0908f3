-- +goose Up
-- PostgreSQL's 00033: "ever had a code" and "active codes" are read from the user's codes, not
-- kept on the user's row. A column in an index cannot be dropped: its indexes go first.
DROP INDEX sdp_users_account_nocode_idx;
DROP INDEX sdp_users_account_state_idx;
CREATE INDEX sdp_users_account_state_idx ON sdp_users (account_id, status, activation, mfa_configured, origin);
ALTER TABLE sdp_users DROP COLUMN had_code;
ALTER TABLE sdp_users DROP COLUMN active_codes;

-- +goose Down
ALTER TABLE sdp_users ADD COLUMN had_code BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE sdp_users ADD COLUMN active_codes INTEGER NOT NULL DEFAULT 0;
UPDATE sdp_users SET had_code = 1,
    active_codes = (SELECT COUNT(*) FROM registration_codes c WHERE c.sdp_user_id = sdp_users.id AND c.encrypted <> '')
WHERE EXISTS (SELECT 1 FROM registration_codes c WHERE c.sdp_user_id = sdp_users.id);
DROP INDEX sdp_users_account_state_idx;
CREATE INDEX sdp_users_account_state_idx ON sdp_users (account_id, status, activation, mfa_configured, had_code, origin);
CREATE INDEX sdp_users_account_nocode_idx ON sdp_users (account_id, id) WHERE had_code = 0;
