DROP TRIGGER outbox_timeline_delete;
DROP TRIGGER outbox_timeline_update;
DROP TRIGGER attachments_timeline_delete;
DROP TRIGGER attachments_timeline_update;
DROP TRIGGER attachments_timeline_insert;
DROP TRIGGER messages_timeline_delete;
DROP TRIGGER messages_timeline_update;
DROP TRIGGER messages_preview;
CREATE TRIGGER messages_preview AFTER INSERT ON messages BEGIN
    UPDATE conversations SET
        preview = substr(new.body, 1, 120),
        waiting_since = CASE new.kind
            WHEN 'customer' THEN COALESCE(waiting_since, new.created_at)
            WHEN 'reply' THEN NULL
            ELSE waiting_since END
    WHERE id = new.conversation_id;
END;
ALTER TABLE conversations DROP COLUMN timeline_version;
DROP TRIGGER customers_directory_delete;
DROP TRIGGER customers_directory_update;
DROP TRIGGER users_directory_delete;
DROP TRIGGER users_directory_update;
DROP TRIGGER users_directory_insert;
DROP TRIGGER teams_directory_delete;
DROP TRIGGER teams_directory_update;
DROP TRIGGER teams_directory_insert;
ALTER TABLE org_settings DROP COLUMN directory_version;
