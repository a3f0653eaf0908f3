-- +goose Up
-- The last TOTP time step a user's code was accepted for: a code that signed in once cannot be
-- replayed within its validity window (RFC 6238 §5.2). The update that records it is
-- conditional (totp_last_step < new step), so two concurrent uses of one code cannot both win.
ALTER TABLE sdp_users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE sdp_users DROP COLUMN totp_last_step;
