-- Rate limiting of public forms, in-app notifications, and each user's
-- choice of notification emails.
CREATE TABLE rate_events (
    id INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX rate_events_scope ON rate_events (scope, at);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('mention', 'assignment', 'reply')),
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    actor_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX notifications_user ON notifications (user_id, read_at, id);
CREATE INDEX notifications_mentions ON notifications (user_id, kind, conversation_id);

ALTER TABLE users ADD COLUMN email_on_mention BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users ADD COLUMN email_on_assignment BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users ADD COLUMN email_on_reply BOOLEAN NOT NULL DEFAULT TRUE;

-- The team whose queue receives conversations from the contact form.
ALTER TABLE org_settings ADD COLUMN intake_team_id INTEGER REFERENCES teams (id) ON DELETE SET NULL;
