-- +goose Up
-- Event Discovery (Monitoring > Events): the same indexes as on PostgreSQL (see there), with
-- (type, sub_type) as trailing key columns where PostgreSQL has them as INCLUDE columns. SQLite
-- compares text byte-wise by default, so the email index serves prefix ranges as it is.
CREATE INDEX events_account_type_idx ON events (account_id, type, sub_type, occurred_at DESC, id DESC);
CREATE INDEX events_account_email_idx ON events (account_id, email, occurred_at DESC, id DESC, type, sub_type);
CREATE INDEX events_account_actor_idx ON events (account_id, actor_label, occurred_at DESC, id DESC, type, sub_type);
CREATE INDEX events_account_actor_type_idx ON events (account_id, actor_type, occurred_at DESC, id DESC, type, sub_type);

-- +goose Down
DROP INDEX events_account_actor_type_idx;
DROP INDEX events_account_actor_idx;
DROP INDEX events_account_email_idx;
DROP INDEX events_account_type_idx;
