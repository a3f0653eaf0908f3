-- +goose Up
-- A registration code can be emailed to its user (Users action email_code): a new kind of
-- message, whose code is its secret (kept apart from the bodies until it is sent).
ALTER TABLE mail_messages DROP CONSTRAINT mail_messages_kind_check;
ALTER TABLE mail_messages ADD CONSTRAINT mail_messages_kind_check
    CHECK (kind IN ('invitation', 'disabled_notice', 'registration_code'));

-- +goose Down
DELETE FROM mail_messages WHERE kind = 'registration_code';
ALTER TABLE mail_messages DROP CONSTRAINT mail_messages_kind_check;
ALTER TABLE mail_messages ADD CONSTRAINT mail_messages_kind_check CHECK (kind IN ('invitation', 'disabled_notice'));
