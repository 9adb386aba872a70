-- Versions that let each node keep what it read in memory while they stay
-- the same. Triggers bump them in the same transaction as every write that
-- changes what was read, whatever code writes; every page reads them first.
--
-- directory_version: the names people and teams show under (the team and
-- assignee pickers; the authors of a timeline).
ALTER TABLE org_settings ADD COLUMN directory_version BIGINT NOT NULL DEFAULT 0;
CREATE FUNCTION directory_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE org_settings SET directory_version = directory_version + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER teams_directory AFTER INSERT OR DELETE OR UPDATE OF name ON teams
    FOR EACH STATEMENT EXECUTE FUNCTION directory_bump();
CREATE TRIGGER users_directory AFTER INSERT OR DELETE OR UPDATE OF name, active, password_hash, user_type ON users
    FOR EACH STATEMENT EXECUTE FUNCTION directory_bump();
CREATE TRIGGER customers_directory AFTER DELETE OR UPDATE OF name ON customers
    FOR EACH STATEMENT EXECUTE FUNCTION directory_bump();

-- timeline_version: a conversation's messages, their files and the
-- delivery of its replies. Statement triggers, so that rewriting every
-- message (a new Markdown policy) bumps each conversation once.
ALTER TABLE conversations ADD COLUMN timeline_version BIGINT NOT NULL DEFAULT 0;
CREATE OR REPLACE FUNCTION conversation_preview_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations c SET
        preview = l.preview,
        waiting_since = CASE WHEN l.last_reply IS NULL
                             THEN COALESCE(c.waiting_since, l.waiting_from)
                             ELSE l.waiting_from END,
        timeline_version = c.timeline_version + 1
    FROM (
        SELECT conversation_id, preview, last_reply,
               MIN(created_at) FILTER (WHERE kind = 'customer'
                   AND (last_reply IS NULL OR created_at > last_reply)) AS waiting_from
        FROM (SELECT n.conversation_id, n.kind, n.created_at,
                     MAX(n.created_at) FILTER (WHERE n.kind = 'reply')
                         OVER (PARTITION BY n.conversation_id) AS last_reply,
                     first_value(left(n.body, 120))
                         OVER (PARTITION BY n.conversation_id ORDER BY n.created_at DESC, n.id DESC) AS preview
              FROM new_rows n) x
        GROUP BY conversation_id, preview, last_reply
    ) l
    WHERE c.id = l.conversation_id;
    RETURN NULL;
END $$;

-- Conversations named in the changed rows (by `conversation_id`).
CREATE FUNCTION timeline_bump_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        UPDATE conversations SET timeline_version = timeline_version + 1
        WHERE id IN (SELECT conversation_id FROM old_rows UNION SELECT conversation_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE conversations SET timeline_version = timeline_version + 1
        WHERE id IN (SELECT conversation_id FROM old_rows);
    ELSE
        UPDATE conversations SET timeline_version = timeline_version + 1
        WHERE id IN (SELECT conversation_id FROM new_rows);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER messages_timeline_update AFTER UPDATE ON messages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_bump_changed();
CREATE TRIGGER messages_timeline_delete AFTER DELETE ON messages
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_bump_changed();
CREATE TRIGGER attachments_timeline_insert AFTER INSERT ON attachments
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_bump_changed();
CREATE TRIGGER attachments_timeline_update AFTER UPDATE ON attachments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_bump_changed();
CREATE TRIGGER attachments_timeline_delete AFTER DELETE ON attachments
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_bump_changed();

-- Conversations whose replies' emails changed state (by Message-ID).
CREATE FUNCTION timeline_bump_delivery() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations SET timeline_version = timeline_version + 1
    WHERE id IN (SELECT m.conversation_id FROM messages m
                 JOIN old_rows o ON o.message_id = m.email_message_id);
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_timeline_update AFTER UPDATE ON outbox
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_bump_delivery();
CREATE TRIGGER outbox_timeline_delete AFTER DELETE ON outbox
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_bump_delivery();
