-- Search walks matches newest first, a window of message ids at a time
-- (src/search.rs). A subject match sits where SQLite's FTS5 puts it: at
-- the conversation's first message (below every message when it has
-- none), so a window can find it through an index instead of reading
-- every conversation whose subject matches. PostgreSQL only: on SQLite
-- the FTS5 rowid is that position already.
-- Whether an update moved anything the reports count, found by hashing
-- (EXCEPT ALL) rather than by joining the two transition tables, which the
-- planner does row by row: an update of 100,000 conversations took minutes.
CREATE OR REPLACE FUNCTION report_conversations_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM report_conversations_add('{}', ARRAY(SELECT CAST(ROW(n.*) AS conversations) FROM new_rows n));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM report_conversations_add(ARRAY(SELECT CAST(ROW(o.*) AS conversations) FROM old_rows o), '{}');
    ELSIF EXISTS (
        -- Most updates (activity, subject, priority) move nothing.
        SELECT o.id, o.created_at, o.closed_at, o.status, o.team_id, o.assignee_id, o.first_reply_at
        FROM old_rows o
        EXCEPT ALL
        SELECT n.id, n.created_at, n.closed_at, n.status, n.team_id, n.assignee_id, n.first_reply_at
        FROM new_rows n
    ) THEN
        PERFORM report_conversations_add(
            ARRAY(SELECT CAST(ROW(o.*) AS conversations) FROM old_rows o),
            ARRAY(SELECT CAST(ROW(n.*) AS conversations) FROM new_rows n));
    END IF;
    RETURN NULL;
END $$;

-- Every search reads a GIN index's whole pending list (entries not yet
-- merged into the index, up to 4 MB), so the indexes search reads are kept
-- merged: a write pays a little more, a search a lot less.
ALTER INDEX messages_body_tsv SET (fastupdate = off);
ALTER INDEX conversations_subject_tsv SET (fastupdate = off);
SELECT gin_clean_pending_list('messages_body_tsv');
SELECT gin_clean_pending_list('conversations_subject_tsv');

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

-- Customers are found by any part of their name or email (LIKE '%…%'):
-- trigram indexes serve that when the server has pg_trgm (PostgreSQL's
-- contrib; a trusted extension, so the database owner may create it).
-- Without it the same query reads every customer. Kept merged, as above.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE INDEX customers_name_trigrams ON customers USING GIN (lower(name) gin_trgm_ops)
            WITH (fastupdate = off);
        CREATE INDEX customers_email_trigrams ON customers USING GIN (email gin_trgm_ops)
            WITH (fastupdate = off);
    END IF;
END $$;
