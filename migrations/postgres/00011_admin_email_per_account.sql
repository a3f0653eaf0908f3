-- +goose Up
-- An admin's email is unique in its account, no longer across the deployment: refusing an email
-- that an admin of another account uses would tell the adding admin so (docs/security.md,
-- Tenancy). One person may thus be an admin of several accounts, a row (and a password) in
-- each; sign-in looks the email up in every account (admins_email_idx). SQLite rebuilds the
-- table instead (../sqlite_go.go).
ALTER TABLE admins DROP CONSTRAINT admins_email_key;
ALTER TABLE admins ADD CONSTRAINT admins_account_email_key UNIQUE (account_id, email);
CREATE INDEX admins_email_idx ON admins (email);

-- +goose Down
DROP INDEX admins_email_idx;
ALTER TABLE admins DROP CONSTRAINT admins_account_email_key;
ALTER TABLE admins ADD CONSTRAINT admins_email_key UNIQUE (email);
