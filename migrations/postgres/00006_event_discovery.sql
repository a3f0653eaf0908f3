-- +goose Up
-- Event Discovery (Monitoring > Events). Each index starts with the account and ends with the
-- list's order (occurred_at DESC, id DESC): a filtered page is then one range read in order, and
-- a keyset cursor (occurred_at, id) < (t, n) seeks into it. The time-only filter has
-- events_account_time_idx (00001) and the user filter events_account_user_idx (00002).
--
-- Kinds: the type / sub-type filter, and the counts per kind, which are index-only range scans
-- of this index (one per kind, each stopping at a cap).
CREATE INDEX events_account_type_idx ON events (account_id, type, sub_type, occurred_at DESC, id DESC);
-- The other filters carry (type, sub_type) so that the counts of such a filter are index-only
-- too: counting the week's events of an email prefix read 10,000 heap pages without them.
-- Emails are stored lowercased; text_pattern_ops compares byte-wise, so that LIKE 'prefix%' (the
-- free-text search) and = (the user filter by email) use it whatever the database collation.
CREATE INDEX events_account_email_idx ON events (account_id, email text_pattern_ops, occurred_at DESC, id DESC) INCLUDE (type, sub_type);
-- Who did it: the actor's email, and the kind of actor (a rare kind, such as system, would
-- otherwise mean reading the whole time range to fill a page).
CREATE INDEX events_account_actor_idx ON events (account_id, actor_label, occurred_at DESC, id DESC) INCLUDE (type, sub_type);
CREATE INDEX events_account_actor_type_idx ON events (account_id, actor_type, occurred_at DESC, id DESC) INCLUDE (type, sub_type);

-- +goose Down
DROP INDEX events_account_actor_type_idx;
DROP INDEX events_account_actor_idx;
DROP INDEX events_account_email_idx;
DROP INDEX events_account_type_idx;
