-- Settings > Users: invitations, the outbox, the audit log, the collaborator
-- allowance and the bookkeeping of deactivation and seasonal windows.
ALTER TABLE org_settings ADD COLUMN collaborator_allowance TEXT NOT NULL DEFAULT 'unlimited';
ALTER TABLE org_settings ADD COLUMN collaborator_allowance_fixed INTEGER;

ALTER TABLE users ADD COLUMN deactivated_at TIMESTAMP;
-- The last access window whose end was handled (conversations handed back).
ALTER TABLE users ADD COLUMN window_closed_for DATE;
CREATE INDEX users_active_name ON users (active, name, id);
CREATE INDEX users_last_active ON users (last_active_at);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    reply_to TEXT,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failing', 'failed')),
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT,
    claimed_until TIMESTAMP,
    claim_token TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

CREATE TABLE invitations (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    invited_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    outbox_id INTEGER REFERENCES outbox (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    superseded BOOLEAN NOT NULL
);
CREATE INDEX invitations_user ON invitations (user_id, created_at);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    actor_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id INTEGER,
    target_label TEXT NOT NULL,
    before_state TEXT,
    after_state TEXT,
    ip TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_created ON audit_log (created_at, id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
