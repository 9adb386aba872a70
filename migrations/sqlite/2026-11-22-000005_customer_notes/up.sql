-- Private notes on customers and organizations, and the setting that masks
-- customers' contact details for collaborators.
ALTER TABLE org_settings ADD COLUMN mask_contacts_for_collaborators BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE customers ADD COLUMN updated_at TIMESTAMP;
ALTER TABLE organizations ADD COLUMN updated_at TIMESTAMP;
CREATE INDEX customers_name ON customers (name, id);
CREATE INDEX organizations_name ON organizations (name, id);

CREATE TABLE profile_notes (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER REFERENCES customers (id) ON DELETE CASCADE,
    organization_id INTEGER REFERENCES organizations (id) ON DELETE CASCADE,
    author_id INTEGER NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CHECK ((customer_id IS NULL) <> (organization_id IS NULL))
);
CREATE INDEX profile_notes_customer ON profile_notes (customer_id, created_at);
CREATE INDEX profile_notes_organization ON profile_notes (organization_id, created_at);
