-- A request: a question asked of one person in a note (`@?Name`), open
-- until they answer it (the note that answers it), decline it (with a
-- reason) or the asker withdraws it. Overdue once `due_at` has passed; the
-- worker reminds the person asked once (`reminded_at`).
CREATE TABLE requests (
    id BIGSERIAL PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    question_message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    asked_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    asked_of BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state TEXT NOT NULL DEFAULT 'open',
    due_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    answer_message_id BIGINT REFERENCES messages (id) ON DELETE SET NULL,
    decline_reason TEXT,
    reminded_at TIMESTAMP,
    CHECK (state IN ('open', 'answered', 'declined', 'withdrawn'))
);
CREATE INDEX requests_asked_of ON requests (asked_of, state);
CREATE INDEX requests_asked_by ON requests (asked_by, state);
CREATE INDEX requests_conversation ON requests (conversation_id);
CREATE INDEX requests_created ON requests (created_at);
CREATE INDEX requests_due ON requests (due_at) WHERE state = 'open' AND reminded_at IS NULL AND due_at IS NOT NULL;

-- The notifications of requests: asked, answered, declined, due.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('mention', 'assignment', 'reply', 'task_assigned', 'task_comment',
        'task_due', 'request', 'request_answered', 'request_declined', 'request_due'));
