-- Search walks matches newest first, a window of message ids at a time
-- (src/search.rs). A subject match sits where SQLite's FTS5 puts it: at
-- the conversation's first message (below every message when it has
-- none), so a window can find it through an index instead of reading
-- every conversation whose subject matches. PostgreSQL only: on SQLite
-- the FTS5 rowid is that position already.
ALTER TABLE conversations ADD COLUMN first_message_id BIGINT;
UPDATE conversations c SET first_message_id = f.id
FROM (SELECT conversation_id, MIN(id) AS id FROM messages GROUP BY conversation_id) f
WHERE f.conversation_id = c.id;
CREATE INDEX conversations_search_position
    ON conversations ((COALESCE(first_message_id, id - 4611686018427387904)));

CREATE FUNCTION conversations_first_message_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Looked up first: an UPDATE that changes nothing would still run the
    -- statement triggers that keep the counters and rollups.
    IF EXISTS (SELECT 1 FROM conversations WHERE id = NEW.conversation_id
               AND (first_message_id IS NULL OR first_message_id > NEW.id)) THEN
        UPDATE conversations SET first_message_id = NEW.id WHERE id = NEW.conversation_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER messages_first_message_insert AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION conversations_first_message_insert();

CREATE FUNCTION conversations_first_message_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM conversations WHERE id = OLD.conversation_id
               AND first_message_id = OLD.id) THEN
        UPDATE conversations
        SET first_message_id = (SELECT MIN(id) FROM messages WHERE conversation_id = OLD.conversation_id)
        WHERE id = OLD.conversation_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER messages_first_message_delete AFTER DELETE ON messages
    FOR EACH ROW EXECUTE FUNCTION conversations_first_message_delete();
