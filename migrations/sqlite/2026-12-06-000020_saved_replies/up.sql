-- Saved replies (canned responses): a title and Markdown with placeholders,
-- for the reply or the note composer; personal (user_id) or shared with a
-- team (team_id), never both.
CREATE TABLE saved_replies (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('reply', 'note')),
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    team_id INTEGER REFERENCES teams (id) ON DELETE CASCADE,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((user_id IS NULL) <> (team_id IS NULL))
);
CREATE INDEX saved_replies_user ON saved_replies (user_id);
CREATE INDEX saved_replies_team ON saved_replies (team_id);
