-- +goose Up
-- A user who has not activated the portal and has a VPN device is shown and filtered as
-- Registered (models.SDPUser.Progress): this index serves that filter of the Users list, whose
-- query repeats its predicate literally so that both databases can use it.
CREATE INDEX sdp_users_account_registered_idx ON sdp_users (account_id, id) WHERE activation <> 'active' AND devices > 0;

-- +goose Down
DROP INDEX sdp_users_account_registered_idx;
