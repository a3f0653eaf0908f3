-- +goose Up
-- Codes reach the person. A handout is the batch of codes one admin (or helpdesk agent) just
-- generated: its result page shows them once (shown_at) and its CSV downloads once
-- (downloaded_at), for that admin only; the codes themselves stay sealed in registration_codes,
-- which name their handout. A background Users action keeps its handout by run_id.
CREATE TABLE code_handouts (
    id            BIGSERIAL PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    admin_id      BIGINT NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    run_id        BIGINT REFERENCES runs (id) ON DELETE CASCADE,
    emailed       BOOLEAN NOT NULL DEFAULT FALSE, -- email_code: the codes were mailed too
    created_at    TIMESTAMPTZ NOT NULL,
    shown_at      TIMESTAMPTZ,
    -- What generating them did, for the result page: codes generated, users skipped (of
    -- whom skipped_mfa had MFA configured).
    generated     INTEGER NOT NULL DEFAULT 0,
    skipped       INTEGER NOT NULL DEFAULT 0,
    skipped_mfa   INTEGER NOT NULL DEFAULT 0,
    downloaded_at TIMESTAMPTZ
);
CREATE INDEX code_handouts_admin_idx ON code_handouts (admin_id);
CREATE UNIQUE INDEX code_handouts_run_idx ON code_handouts (run_id) WHERE run_id IS NOT NULL;

-- Who generated a code now says the role (admin or helpdesk) and "creation" (automatic, when a
-- user is created under the Registration Code method); each way a code was delivered is
-- recorded (shown on screen, in a CSV, emailed), and the address that used it.
ALTER TABLE registration_codes DROP CONSTRAINT registration_codes_generated_by_check;
ALTER TABLE registration_codes ADD CONSTRAINT registration_codes_generated_by_check
    CHECK (generated_by IN ('admin', 'helpdesk', 'bulk', 'creation'));
ALTER TABLE registration_codes ADD COLUMN handout_id BIGINT REFERENCES code_handouts (id) ON DELETE SET NULL;
ALTER TABLE registration_codes ADD COLUMN shown_at TIMESTAMPTZ;
ALTER TABLE registration_codes ADD COLUMN csv_at TIMESTAMPTZ;
ALTER TABLE registration_codes ADD COLUMN emailed_at TIMESTAMPTZ;
ALTER TABLE registration_codes ADD COLUMN used_ip TEXT NOT NULL DEFAULT '';
CREATE INDEX registration_codes_handout_idx ON registration_codes (handout_id) WHERE handout_id IS NOT NULL;

-- +goose Down
DROP INDEX registration_codes_handout_idx;
ALTER TABLE registration_codes DROP COLUMN used_ip;
ALTER TABLE registration_codes DROP COLUMN emailed_at;
ALTER TABLE registration_codes DROP COLUMN csv_at;
ALTER TABLE registration_codes DROP COLUMN shown_at;
ALTER TABLE registration_codes DROP COLUMN handout_id;
UPDATE registration_codes SET generated_by = 'admin' WHERE generated_by IN ('helpdesk', 'creation');
ALTER TABLE registration_codes DROP CONSTRAINT registration_codes_generated_by_check;
ALTER TABLE registration_codes ADD CONSTRAINT registration_codes_generated_by_check CHECK (generated_by IN ('admin', 'bulk'));
DROP TABLE code_handouts;
