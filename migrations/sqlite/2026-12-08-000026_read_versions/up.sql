-- Versions that let each node keep what it read in memory while they stay
-- the same. Triggers bump them in the same transaction as every write that
-- changes what was read, whatever code writes; every page reads them first.
--
-- directory_version: the names people and teams show under (the team and
-- assignee pickers; the authors of a timeline).
ALTER TABLE org_settings ADD COLUMN directory_version BIGINT NOT NULL DEFAULT 0;
CREATE TRIGGER teams_directory_insert AFTER INSERT ON teams
BEGIN UPDATE org_settings SET directory_version = directory_version + 1; END;
CREATE TRIGGER teams_directory_update AFTER UPDATE OF name ON teams
BEGIN UPDATE org_settings SET directory_version = directory_version + 1; END;
CREATE TRIGGER teams_directory_delete AFTER DELETE ON teams
BEGIN UPDATE org_settings SET directory_version = directory_version + 1; END;
CREATE TRIGGER users_directory_insert AFTER INSERT ON users
BEGIN UPDATE org_settings SET directory_version = directory_version + 1; END;
CREATE TRIGGER users_directory_update AFTER UPDATE OF name, active, password_hash, user_type ON users
BEGIN UPDATE org_settings SET directory_version = directory_version + 1; END;
CREATE TRIGGER users_directory_delete AFTER DELETE ON users
BEGIN UPDATE org_settings SET directory_version = directory_version + 1; END;
CREATE TRIGGER customers_directory_update AFTER UPDATE OF name ON customers
BEGIN UPDATE org_settings SET directory_version = directory_version + 1; END;
CREATE TRIGGER customers_directory_delete AFTER DELETE ON customers
BEGIN UPDATE org_settings SET directory_version = directory_version + 1; END;

-- timeline_version: a conversation's messages, their files and the
-- delivery of its replies.
ALTER TABLE conversations ADD COLUMN timeline_version BIGINT NOT NULL DEFAULT 0;
DROP TRIGGER messages_preview;
CREATE TRIGGER messages_preview AFTER INSERT ON messages BEGIN
    UPDATE conversations SET
        preview = substr(new.body, 1, 120),
        waiting_since = CASE new.kind
            WHEN 'customer' THEN COALESCE(waiting_since, new.created_at)
            WHEN 'reply' THEN NULL
            ELSE waiting_since END,
        timeline_version = timeline_version + 1
    WHERE id = new.conversation_id;
END;
CREATE TRIGGER messages_timeline_update AFTER UPDATE ON messages BEGIN
    UPDATE conversations SET timeline_version = timeline_version + 1
    WHERE id IN (old.conversation_id, new.conversation_id);
END;
CREATE TRIGGER messages_timeline_delete AFTER DELETE ON messages BEGIN
    UPDATE conversations SET timeline_version = timeline_version + 1
    WHERE id = old.conversation_id;
END;
CREATE TRIGGER attachments_timeline_insert AFTER INSERT ON attachments BEGIN
    UPDATE conversations SET timeline_version = timeline_version + 1
    WHERE id = new.conversation_id;
END;
CREATE TRIGGER attachments_timeline_update AFTER UPDATE ON attachments BEGIN
    UPDATE conversations SET timeline_version = timeline_version + 1
    WHERE id IN (old.conversation_id, new.conversation_id);
END;
CREATE TRIGGER attachments_timeline_delete AFTER DELETE ON attachments BEGIN
    UPDATE conversations SET timeline_version = timeline_version + 1
    WHERE id = old.conversation_id;
END;
CREATE TRIGGER outbox_timeline_update AFTER UPDATE OF status, last_error ON outbox
WHEN new.message_id IS NOT NULL BEGIN
    UPDATE conversations SET timeline_version = timeline_version + 1
    WHERE id IN (SELECT conversation_id FROM messages WHERE email_message_id = new.message_id);
END;
CREATE TRIGGER outbox_timeline_delete AFTER DELETE ON outbox
WHEN old.message_id IS NOT NULL BEGIN
    UPDATE conversations SET timeline_version = timeline_version + 1
    WHERE id IN (SELECT conversation_id FROM messages WHERE email_message_id = old.message_id);
END;
