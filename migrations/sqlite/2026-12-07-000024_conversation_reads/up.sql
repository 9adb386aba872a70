-- What each person last saw of a conversation: its last activity when they
-- last opened it. Newer activity than that is unread for them (the inbox
-- marks it). Written only when a page shows something new.
CREATE TABLE conversation_reads (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seen_activity_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, conversation_id)
);
CREATE INDEX conversation_reads_conversation ON conversation_reads (conversation_id);
