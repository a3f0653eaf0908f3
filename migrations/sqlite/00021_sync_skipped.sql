-- +goose Up
-- Directory entries a sync left out (no stable id, no usable email, or an email a user of
-- another origin has), with why: shown on the Directory Sync tab and in the Finished event.
ALTER TABLE directory_syncs ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0;
ALTER TABLE directory_syncs ADD COLUMN skip_reasons TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE directory_syncs DROP COLUMN skip_reasons;
ALTER TABLE directory_syncs DROP COLUMN skipped;
