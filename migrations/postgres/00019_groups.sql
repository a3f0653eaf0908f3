-- +goose Up
-- A group a SCIM directory pushes (/Groups): its displayName is unique in the directory
-- case-insensitively, as the identity providers look groups up by it before creating them.
CREATE TABLE directory_groups (
    id           BIGSERIAL PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    directory_id BIGINT NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    external_id  TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX directory_groups_name_idx ON directory_groups (account_id, directory_id, lower(display_name));

-- A user's membership of a group; both go with either.
CREATE TABLE directory_group_members (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    group_id   BIGINT NOT NULL REFERENCES directory_groups (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES sdp_users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX directory_group_members_user_idx ON directory_group_members (account_id, user_id);

-- +goose Down
DROP TABLE directory_group_members;
DROP TABLE directory_groups;
