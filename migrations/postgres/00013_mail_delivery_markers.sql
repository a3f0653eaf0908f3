-- +goose Up
-- Exactly-once delivery: an attempt commits 'sending' before it hands a message to the SMTP
-- server, so that after a crash during the hand-off the next attempt knows the server may
-- have it; such a message becomes 'unknown' and is never sent again on its own.
ALTER TABLE mail_messages DROP CONSTRAINT mail_messages_status_check;
ALTER TABLE mail_messages ADD CONSTRAINT mail_messages_status_check
    CHECK (status IN ('queued', 'sending', 'sent', 'retrying', 'failed', 'held', 'unknown'));

-- +goose Down
UPDATE mail_messages SET status = 'failed' WHERE status IN ('sending', 'unknown');
ALTER TABLE mail_messages DROP CONSTRAINT mail_messages_status_check;
ALTER TABLE mail_messages ADD CONSTRAINT mail_messages_status_check
    CHECK (status IN ('queued', 'sent', 'retrying', 'failed', 'held'));
