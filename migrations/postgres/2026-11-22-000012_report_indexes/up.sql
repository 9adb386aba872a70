-- Reports count conversations by when they were opened and closed, and
-- messages by when and by whom they were written: covering indexes for
-- those range scans, and for finding a conversation's first reply.
CREATE INDEX conversations_created ON conversations (created_at);
CREATE INDEX conversations_closed ON conversations (status, closed_at, created_at);
CREATE INDEX messages_created ON messages (created_at, kind, author_user_id, conversation_id);
CREATE INDEX messages_first_reply ON messages (conversation_id, kind, created_at);
