-- Who has a conversation open right now, and who is writing a reply in it:
-- kept in the database so every node sees every node's viewers. A row is
-- refreshed while its viewer's page is open; older than a few seconds, it
-- no longer counts.
CREATE TABLE conversation_viewers (
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seen_at TIMESTAMP NOT NULL,
    replying_at TIMESTAMP,
    PRIMARY KEY (conversation_id, user_id)
);
