DROP TRIGGER outbox_timeline_delete ON outbox;
DROP TRIGGER outbox_timeline_update ON outbox;
DROP FUNCTION timeline_bump_delivery();
DROP TRIGGER attachments_timeline_delete ON attachments;
DROP TRIGGER attachments_timeline_update ON attachments;
DROP TRIGGER attachments_timeline_insert ON attachments;
DROP TRIGGER messages_timeline_delete ON messages;
DROP TRIGGER messages_timeline_update ON messages;
DROP FUNCTION timeline_bump_changed();
CREATE OR REPLACE FUNCTION conversation_preview_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations c SET
        preview = l.preview,
        waiting_since = CASE WHEN l.last_reply IS NULL
                             THEN COALESCE(c.waiting_since, l.waiting_from)
                             ELSE l.waiting_from END
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
ALTER TABLE conversations DROP COLUMN timeline_version;
DROP TRIGGER customers_directory ON customers;
DROP TRIGGER users_directory ON users;
DROP TRIGGER teams_directory ON teams;
DROP FUNCTION directory_bump();
ALTER TABLE org_settings DROP COLUMN directory_version;
