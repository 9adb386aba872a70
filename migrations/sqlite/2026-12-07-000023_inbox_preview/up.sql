-- What the inbox shows of each conversation without reading its messages:
-- the beginning of the newest message, and since when the customer has
-- been waiting (their first message after our last reply; a reply ends
-- the wait, a note does not). Kept by a trigger on every new message,
-- whichever code path writes it.
ALTER TABLE conversations ADD COLUMN preview TEXT;
ALTER TABLE conversations ADD COLUMN waiting_since TIMESTAMP;

UPDATE conversations SET
    preview = (SELECT substr(m.body, 1, 120) FROM messages m
               WHERE m.conversation_id = conversations.id
               ORDER BY m.created_at DESC, m.id DESC LIMIT 1),
    waiting_since = (SELECT MIN(m.created_at) FROM messages m
                     WHERE m.conversation_id = conversations.id AND m.kind = 'customer'
                       AND m.created_at > COALESCE(
                           (SELECT MAX(r.created_at) FROM messages r
                            WHERE r.conversation_id = conversations.id AND r.kind = 'reply'),
                           '0000-01-01'));

CREATE TRIGGER messages_preview AFTER INSERT ON messages BEGIN
    UPDATE conversations SET
        preview = substr(new.body, 1, 120),
        waiting_since = CASE new.kind
            WHEN 'customer' THEN COALESCE(waiting_since, new.created_at)
            WHEN 'reply' THEN NULL
            ELSE waiting_since END
    WHERE id = new.conversation_id;
END;
