DROP INDEX IF EXISTS customers_email_trigrams;
DROP INDEX IF EXISTS customers_name_trigrams;
ALTER INDEX messages_body_tsv RESET (fastupdate);
ALTER INDEX conversations_subject_tsv RESET (fastupdate);
DROP TRIGGER messages_first_message_delete ON messages;
DROP TRIGGER messages_first_message_insert ON messages;
DROP FUNCTION conversations_first_message_delete();
DROP FUNCTION conversations_first_message_insert();
DROP INDEX conversations_search_position;
ALTER TABLE conversations DROP COLUMN first_message_id;

CREATE OR REPLACE FUNCTION report_conversations_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM report_conversations_add('{}', ARRAY(SELECT CAST(ROW(n.*) AS conversations) FROM new_rows n));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM report_conversations_add(ARRAY(SELECT CAST(ROW(o.*) AS conversations) FROM old_rows o), '{}');
    ELSIF EXISTS (
        -- Most updates (activity, subject, priority) move nothing.
        SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.created_at, o.closed_at, o.status, o.team_id, o.assignee_id, o.first_reply_at)
            IS DISTINCT FROM (n.created_at, n.closed_at, n.status, n.team_id, n.assignee_id, n.first_reply_at)
    ) THEN
        PERFORM report_conversations_add(
            ARRAY(SELECT CAST(ROW(o.*) AS conversations) FROM old_rows o),
            ARRAY(SELECT CAST(ROW(n.*) AS conversations) FROM new_rows n));
    END IF;
    RETURN NULL;
END $$;
