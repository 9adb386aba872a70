-- The conversations workspace: tags, email threading of replies, and the
-- index the "All" and "Done" views page through.
CREATE TABLE tags (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE conversation_tags (
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (conversation_id, tag_id)
);
CREATE INDEX conversation_tags_tag ON conversation_tags (tag_id, conversation_id);

-- The Message-ID header of each message sent or received by email.
ALTER TABLE messages ADD COLUMN email_message_id TEXT;
CREATE INDEX messages_email_message_id ON messages (email_message_id);

ALTER TABLE outbox ADD COLUMN message_id TEXT;
ALTER TABLE outbox ADD COLUMN in_reply_to TEXT;
ALTER TABLE outbox ADD COLUMN references_header TEXT;

CREATE INDEX conversations_status_activity ON conversations (status, last_activity_at, id);
CREATE INDEX conversations_snoozed ON conversations (status, snoozed_until);
