-- +goose Up
-- "Generate for new users" runs in the background (a River job that names only the row) and
-- commits a thousand users at a time: this row is what the Client Access page shows of it
-- (progress, result, error). Users created after the click are not part of a run
-- (max_user_id), so that the count in the warning is the count the run works through.
CREATE TABLE code_generation_runs (
    id          BIGSERIAL PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    total       INTEGER NOT NULL,
    done        INTEGER NOT NULL DEFAULT 0,
    max_user_id BIGINT NOT NULL,
    error       TEXT NOT NULL DEFAULT '',
    admin_id    BIGINT REFERENCES admins (id) ON DELETE SET NULL,
    actor_type  TEXT NOT NULL,
    actor_label TEXT NOT NULL DEFAULT '',
    source_ip   TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    started_at  TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX code_generation_runs_account_idx ON code_generation_runs (account_id, id);
-- One run per account at a time: a second click while one is queued or running is a conflict.
CREATE UNIQUE INDEX code_generation_runs_open_idx ON code_generation_runs (account_id) WHERE status IN ('queued', 'running');

-- Deleting users cascades to their codes by sdp_user_id alone, which the (account_id,
-- sdp_user_id, id) index cannot serve.
CREATE INDEX registration_codes_user_idx ON registration_codes (sdp_user_id);

-- +goose Down
DROP INDEX registration_codes_user_idx;
DROP TABLE code_generation_runs;
