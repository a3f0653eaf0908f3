-- +goose Up
-- Data retention (Settings > Data Retention, docs/admin-guide.md): how long each account keeps
-- its events, and the bodies of its sent mail (the message's metadata stays). A periodic job
-- (models/retention) deletes and empties what is older, 5,000 rows per statement.
ALTER TABLE accounts ADD COLUMN event_retention_days INTEGER NOT NULL DEFAULT 400;
ALTER TABLE accounts ADD COLUMN mail_body_retention_days INTEGER NOT NULL DEFAULT 30;
-- When the job emptied the message's bodies (NULL while it has them).
ALTER TABLE mail_messages ADD COLUMN body_purged_at DATETIME;
-- The sent messages whose bodies are still there, oldest first per account: what the job
-- empties next, found without reading the rest of the table.
CREATE INDEX mail_messages_body_kept_idx ON mail_messages (account_id, sent_at) WHERE status = 'sent' AND body_purged_at IS NULL;
-- The messages not sent (the mail gauge of /metrics): few next to the sent ones.
CREATE INDEX mail_messages_unsent_idx ON mail_messages (status, kind) WHERE status <> 'sent';

-- +goose Down
DROP INDEX mail_messages_unsent_idx;
DROP INDEX mail_messages_body_kept_idx;
ALTER TABLE mail_messages DROP COLUMN body_purged_at;
ALTER TABLE accounts DROP COLUMN mail_body_retention_days;
ALTER TABLE accounts DROP COLUMN event_retention_days;
