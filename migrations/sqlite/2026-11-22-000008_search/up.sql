-- Full-text search over conversation subjects and messages (notes
-- included), kept up to date by triggers in the same transaction as the
-- write. FTS5 ships with the bundled SQLite.
CREATE VIRTUAL TABLE conversation_fts USING fts5(
    conversation_id UNINDEXED,
    message_id UNINDEXED,
    text,
    tokenize = 'porter unicode61'
);

INSERT INTO conversation_fts (conversation_id, message_id, text)
    SELECT id, NULL, subject FROM conversations;
INSERT INTO conversation_fts (conversation_id, message_id, text)
    SELECT conversation_id, id, body FROM messages;

CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO conversation_fts (conversation_id, message_id, text) VALUES (new.id, NULL, new.subject);
END;
CREATE TRIGGER conversations_fts_update AFTER UPDATE OF subject ON conversations BEGIN
    DELETE FROM conversation_fts WHERE conversation_id = old.id AND message_id IS NULL;
    INSERT INTO conversation_fts (conversation_id, message_id, text) VALUES (new.id, NULL, new.subject);
END;
CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN
    DELETE FROM conversation_fts WHERE conversation_id = old.id;
END;
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO conversation_fts (conversation_id, message_id, text) VALUES (new.conversation_id, new.id, new.body);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    DELETE FROM conversation_fts WHERE message_id = old.id;
END;

CREATE TABLE saved_searches (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    team_id INTEGER REFERENCES teams (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX saved_searches_user ON saved_searches (user_id);
CREATE INDEX saved_searches_team ON saved_searches (team_id);

-- The inbox walks conversations newest activity first.
CREATE INDEX conversations_activity ON conversations (last_activity_at, id);
