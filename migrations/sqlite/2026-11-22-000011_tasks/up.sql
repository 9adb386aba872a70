-- Tasks: assigned to any active user (collaborators included), optionally
-- linked to a conversation or a customer, with comments. Notifications can
-- now be about a task instead of a conversation.
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    due_on DATE,
    assignee_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    creator_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'done')),
    conversation_id INTEGER REFERENCES conversations (id) ON DELETE SET NULL,
    customer_id INTEGER REFERENCES customers (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    completed_at TIMESTAMP,
    -- Set once the assignee was told that the due date came.
    due_notified_at TIMESTAMP
);
CREATE INDEX tasks_assignee ON tasks (assignee_id, status, due_on);
CREATE INDEX tasks_creator ON tasks (creator_id, status);
CREATE INDEX tasks_conversation ON tasks (conversation_id);
CREATE INDEX tasks_customer ON tasks (customer_id);
CREATE INDEX tasks_due ON tasks (status, due_on);

CREATE TABLE task_comments (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    author_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX task_comments_task ON task_comments (task_id, id);

-- SQLite cannot relax a NOT NULL or a CHECK in place: rebuild the table.
CREATE TABLE notifications_new (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('mention', 'assignment', 'reply', 'task_assigned', 'task_comment', 'task_due')),
    conversation_id INTEGER REFERENCES conversations (id) ON DELETE CASCADE,
    task_id INTEGER REFERENCES tasks (id) ON DELETE CASCADE,
    actor_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
INSERT INTO notifications_new (id, user_id, kind, conversation_id, actor_id, created_at, read_at)
    SELECT id, user_id, kind, conversation_id, actor_id, created_at, read_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_user ON notifications (user_id, read_at, id);
CREATE INDEX notifications_mentions ON notifications (user_id, kind, conversation_id);
CREATE INDEX notifications_task ON notifications (task_id);
