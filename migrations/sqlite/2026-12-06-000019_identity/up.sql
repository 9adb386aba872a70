-- Two-factor sign-in (TOTP) and single sign-on (OpenID Connect).
-- `users.two_factor_since` is set while a second factor is on: the request
-- guard reads it with the user, without touching the secret.
ALTER TABLE users ADD COLUMN two_factor_since TIMESTAMP;

-- The confirmed TOTP secret, encrypted with a key derived from
-- CONFER_SECRET_KEY; `last_step` is the newest 30-second step a code was
-- accepted for, so no code works twice.
CREATE TABLE user_totp (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    last_step BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);

-- Single-use recovery codes, SHA-256 of the code.
CREATE TABLE recovery_codes (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

-- "Remember this device for 30 days": SHA-256 of the cookie's token.
CREATE TABLE remembered_devices (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX remembered_devices_user ON remembered_devices (user_id);

-- Settings > Security. `two_factor_required`: off, admins or everyone.
ALTER TABLE org_settings ADD COLUMN two_factor_required TEXT NOT NULL DEFAULT 'off';
ALTER TABLE org_settings ADD COLUMN sso_issuer TEXT;
ALTER TABLE org_settings ADD COLUMN sso_client_id TEXT;
-- Encrypted like the TOTP secrets.
ALTER TABLE org_settings ADD COLUMN sso_client_secret TEXT;
ALTER TABLE org_settings ADD COLUMN sso_label TEXT;
-- Email domains (comma separated) whose first SSO sign-in creates a Full-time Agent.
ALTER TABLE org_settings ADD COLUMN sso_create_domains TEXT NOT NULL DEFAULT '';
ALTER TABLE org_settings ADD COLUMN sso_only BOOLEAN NOT NULL DEFAULT FALSE;
