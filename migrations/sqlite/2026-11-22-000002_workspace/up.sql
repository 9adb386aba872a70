-- Customers, their organizations and conversations: the minimum the demo
-- workspace needs; the conversations issue extends these tables.
CREATE TABLE organizations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    domains TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT UNIQUE,
    phone TEXT,
    organization_id INTEGER REFERENCES organizations (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX customers_organization ON customers (organization_id);

CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    subject TEXT NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    status TEXT NOT NULL CHECK (status IN ('open', 'pending', 'snoozed', 'done')),
    snoozed_until TIMESTAMP,
    priority TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    assignee_id INTEGER REFERENCES users (id),
    team_id INTEGER REFERENCES teams (id),
    channel TEXT NOT NULL CHECK (channel IN ('email', 'web_form', 'api')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    last_activity_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP
);
CREATE INDEX conversations_team_status ON conversations (team_id, status, last_activity_at);
CREATE INDEX conversations_assignee_status ON conversations (assignee_id, status, last_activity_at);
CREATE INDEX conversations_customer ON conversations (customer_id);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('customer', 'reply', 'note')),
    author_user_id INTEGER REFERENCES users (id),
    author_customer_id INTEGER REFERENCES customers (id),
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, created_at);
