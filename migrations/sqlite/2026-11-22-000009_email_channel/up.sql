-- The email channel: where a message came from and its quoted history,
-- attachments (kept in the database so every node serves them), the
-- attachments an outgoing mail carries, a log of every inbound mail, and the
-- hashed bearer token of the inbound endpoint.
ALTER TABLE messages ADD COLUMN source TEXT NOT NULL DEFAULT 'web' CHECK (source IN ('web', 'email'));
ALTER TABLE messages ADD COLUMN quoted TEXT;

CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    message_id INTEGER REFERENCES messages (id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    content_id TEXT,
    inline BOOLEAN NOT NULL DEFAULT FALSE,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id);
CREATE INDEX attachments_conversation ON attachments (conversation_id);

CREATE TABLE outbox_attachments (
    outbox_id INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    attachment_id INTEGER NOT NULL REFERENCES attachments (id) ON DELETE CASCADE,
    PRIMARY KEY (outbox_id, attachment_id)
);
CREATE INDEX outbox_message_id ON outbox (message_id);

CREATE TABLE inbound_mail (
    id INTEGER PRIMARY KEY,
    received_at TIMESTAMP NOT NULL,
    sender TEXT,
    subject TEXT NOT NULL,
    message_id TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('created', 'appended', 'noted', 'ignored', 'rejected')),
    detail TEXT NOT NULL,
    conversation_id INTEGER REFERENCES conversations (id) ON DELETE SET NULL
);
CREATE INDEX inbound_mail_message_id ON inbound_mail (message_id);

ALTER TABLE org_settings ADD COLUMN inbound_token_hash TEXT;
ALTER TABLE org_settings ADD COLUMN inbound_token_created_at TIMESTAMP;
