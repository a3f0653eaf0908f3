-- +goose Up
-- What replicas of one deployment share through the database.
--
-- Failure budgets (models/ratelimit): one row per limiter and key, the bucket as the time it is
-- full again (full_at, Unix nanoseconds), so that taking a token is one atomic upsert on any
-- instance. Full buckets are deleted by the purge job.
CREATE TABLE rate_limits (
    limiter TEXT NOT NULL,
    bucket  TEXT NOT NULL,
    full_at BIGINT NOT NULL,
    PRIMARY KEY (limiter, bucket)
);
CREATE INDEX rate_limits_full_at_idx ON rate_limits (full_at);

-- Deployment-wide values, such as the key check value of ONRAMP_SECRET.
CREATE TABLE deployment_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The attempt working a run holds it (worker) and proves it is alive (heartbeat_at): a run
-- whose heartbeat stopped is stalled, and another attempt may take it over.
ALTER TABLE runs ADD COLUMN worker TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN heartbeat_at TIMESTAMPTZ;

-- One setup link at a time: however many instances start at once, one unused link exists.
UPDATE one_time_tokens SET used_at = created_at WHERE purpose = 'setup' AND used_at IS NULL
    AND id <> (SELECT MAX(id) FROM one_time_tokens WHERE purpose = 'setup' AND used_at IS NULL);
CREATE UNIQUE INDEX one_time_tokens_one_setup_idx ON one_time_tokens (purpose) WHERE purpose = 'setup' AND used_at IS NULL;

-- +goose Down
DROP INDEX one_time_tokens_one_setup_idx;
ALTER TABLE runs DROP COLUMN heartbeat_at;
ALTER TABLE runs DROP COLUMN worker;
DROP TABLE deployment_settings;
DROP TABLE rate_limits;
