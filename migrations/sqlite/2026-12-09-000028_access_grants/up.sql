-- A collaborator may be granted one conversation, or every conversation of
-- one customer, until a date: it widens what they see, never what they do.
-- A grant ends when revoked or when the worker finds it expired
-- (`ended_at`, `end_reason`); only grants without an end count.
CREATE TABLE access_grants (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id BIGINT REFERENCES conversations (id) ON DELETE CASCADE,
    customer_id BIGINT REFERENCES customers (id) ON DELETE CASCADE,
    granted_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    end_reason TEXT,
    CHECK ((conversation_id IS NULL) <> (customer_id IS NULL))
);
CREATE INDEX access_grants_in_force ON access_grants (user_id) WHERE ended_at IS NULL;
CREATE INDEX access_grants_expiring ON access_grants (expires_at) WHERE ended_at IS NULL;
CREATE INDEX access_grants_conversation ON access_grants (conversation_id) WHERE ended_at IS NULL;
CREATE INDEX access_grants_customer ON access_grants (customer_id) WHERE ended_at IS NULL;
