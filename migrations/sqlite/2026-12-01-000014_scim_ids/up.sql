-- SCIM identifiers kept as the identity provider sends them: a team's
-- externalId (Entra, Okta), and a user's userName when it is not their
-- email address (unique, case-insensitively, like SCIM compares it).
ALTER TABLE teams ADD COLUMN external_id TEXT;
ALTER TABLE users ADD COLUMN scim_user_name TEXT;
CREATE UNIQUE INDEX users_scim_user_name ON users (lower(scim_user_name));
