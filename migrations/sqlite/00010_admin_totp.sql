-- +goose Up
-- Optional two-step verification (TOTP) for console admins, as the portal has for SDP users
-- (00004): the key, sealed with AES-256-GCM ("" when off), and the last time step a code was
-- accepted for, so that a code signs in once (the update that records it is conditional).
ALTER TABLE admins ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE admins ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE admins DROP COLUMN totp_last_step;
ALTER TABLE admins DROP COLUMN totp_secret;
