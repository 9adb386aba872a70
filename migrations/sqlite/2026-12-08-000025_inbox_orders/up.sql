-- The inbox's other orders, each read along an index of the open
-- conversations: the longest wait first, and newest first per priority.
CREATE INDEX conversations_open_waiting ON conversations (waiting_since, id)
    WHERE status <> 'done' AND waiting_since IS NOT NULL;
CREATE INDEX conversations_open_priority ON conversations (priority, last_activity_at, id)
    WHERE status <> 'done';
