-- What the inbox shows of each conversation without reading its messages:
-- the beginning of the newest message, and since when the customer has
-- been waiting (their first message after our last reply; a reply ends
-- the wait, a note does not). Kept by a trigger on every statement that
-- adds messages, whichever code path writes them.
ALTER TABLE conversations ADD COLUMN preview TEXT;
ALTER TABLE conversations ADD COLUMN waiting_since TIMESTAMP;

UPDATE conversations c SET preview = l.preview, waiting_since = l.waiting_from
FROM (
    SELECT conversation_id, preview,
           MIN(created_at) FILTER (WHERE kind = 'customer'
               AND (last_reply IS NULL OR created_at > last_reply)) AS waiting_from
    FROM (SELECT m.conversation_id, m.kind, m.created_at,
                 MAX(m.created_at) FILTER (WHERE m.kind = 'reply')
                     OVER (PARTITION BY m.conversation_id) AS last_reply,
                 first_value(left(m.body, 120))
                     OVER (PARTITION BY m.conversation_id ORDER BY m.created_at DESC, m.id DESC) AS preview
          FROM messages m) x
    GROUP BY conversation_id, preview
) l
WHERE c.id = l.conversation_id;

CREATE FUNCTION conversation_preview_apply() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER messages_preview AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION conversation_preview_apply();
