-- +goose Up
-- A message's secret (its activation link) is kept apart from its bodies, which hold a mark in
-- its place, and is cleared once the message is sent: a sent message keeps no working link.
ALTER TABLE mail_messages ADD COLUMN secret TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE mail_messages DROP COLUMN secret;
