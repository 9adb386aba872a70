DELETE FROM notifications WHERE conversation_id IS NULL OR kind NOT IN ('mention', 'assignment', 'reply');
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('mention', 'assignment', 'reply'));
ALTER TABLE notifications DROP COLUMN task_id;
ALTER TABLE notifications ALTER COLUMN conversation_id SET NOT NULL;
DROP TABLE task_comments;
DROP TABLE tasks;
