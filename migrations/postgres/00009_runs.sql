-- +goose Up
-- Bulk user actions over large selections run in the background too, like "Generate for new
-- users": both kinds share one table of runs (kind), one job and one progress view. A user
-- action keeps its action and the filter it was confirmed with, and how far it got
-- (after_user_id, the last user id done: users are taken in id order), so that a run that
-- stops resumes after the last committed batch. An account has at most one open run of each
-- kind.
ALTER TABLE code_generation_runs RENAME TO runs;
ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'generate_codes' CHECK (kind IN ('generate_codes', 'user_action'));
ALTER TABLE runs ADD COLUMN action TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN filter TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN after_user_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN affected INTEGER NOT NULL DEFAULT 0;
DROP INDEX code_generation_runs_open_idx;
DROP INDEX code_generation_runs_account_idx;
CREATE INDEX runs_account_idx ON runs (account_id, kind, id);
CREATE UNIQUE INDEX runs_open_idx ON runs (account_id, kind) WHERE status IN ('queued', 'running');

-- +goose Down
DROP INDEX runs_open_idx;
DROP INDEX runs_account_idx;
DELETE FROM runs WHERE kind <> 'generate_codes';
ALTER TABLE runs DROP COLUMN affected;
ALTER TABLE runs DROP COLUMN after_user_id;
ALTER TABLE runs DROP COLUMN filter;
ALTER TABLE runs DROP COLUMN action;
ALTER TABLE runs DROP COLUMN kind;
ALTER TABLE runs RENAME TO code_generation_runs;
CREATE INDEX code_generation_runs_account_idx ON code_generation_runs (account_id, id);
CREATE UNIQUE INDEX code_generation_runs_open_idx ON code_generation_runs (account_id) WHERE status IN ('queued', 'running');
