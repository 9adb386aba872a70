-- Reports count conversations by when they were opened and closed, and
-- messages by when they were written: range scans on these.
CREATE INDEX conversations_created ON conversations (created_at);
CREATE INDEX conversations_closed ON conversations (closed_at);
CREATE INDEX messages_created ON messages (created_at);
