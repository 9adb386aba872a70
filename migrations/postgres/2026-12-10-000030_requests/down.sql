DELETE FROM notifications WHERE kind LIKE 'request%';
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('mention', 'assignment', 'reply', 'task_assigned', 'task_comment', 'task_due'));
DROP TABLE requests;
