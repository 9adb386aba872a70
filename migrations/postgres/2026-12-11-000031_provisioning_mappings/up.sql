-- Provisioning by group: a SCIM group (a team), matched by its displayName
-- or its externalId, gives its members a user type, a role and teams; with
-- `deactivate_on_leave`, leaving every mapped group deactivates them.
CREATE TABLE provisioning_mappings (
    id BIGSERIAL PRIMARY KEY,
    match_kind TEXT NOT NULL CHECK (match_kind IN ('display_name', 'external_id')),
    match_value TEXT NOT NULL,
    user_type TEXT NOT NULL CHECK (user_type IN ('full_time', 'collaborator')),
    role_id BIGINT REFERENCES roles (id) ON DELETE SET NULL,
    deactivate_on_leave BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE provisioning_mapping_teams (
    mapping_id BIGINT NOT NULL REFERENCES provisioning_mappings (id) ON DELETE CASCADE,
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    PRIMARY KEY (mapping_id, team_id)
);
