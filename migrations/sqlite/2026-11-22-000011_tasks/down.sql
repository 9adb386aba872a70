CREATE TABLE notifications_old (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('mention', 'assignment', 'reply')),
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    actor_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
INSERT INTO notifications_old (id, user_id, kind, conversation_id, actor_id, created_at, read_at)
    SELECT id, user_id, kind, conversation_id, actor_id, created_at, read_at FROM notifications
    WHERE conversation_id IS NOT NULL AND kind IN ('mention', 'assignment', 'reply');
DROP TABLE notifications;
ALTER TABLE notifications_old RENAME TO notifications;
CREATE INDEX notifications_user ON notifications (user_id, read_at, id);
CREATE INDEX notifications_mentions ON notifications (user_id, kind, conversation_id);
DROP TABLE task_comments;
DROP TABLE tasks;
