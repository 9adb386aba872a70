-- User-written Markdown is rendered and sanitized once, when written, and
-- kept beside its source. NULL means "not rendered with the current
-- policy": the server fills those in the background at start (and renders
-- such a row itself if it is read first). `markup_version` holds the
-- version of the Markdown/sanitizer policy the stored HTML was made with;
-- when the code's version differs, the server clears the HTML and renders
-- it again.
ALTER TABLE messages ADD COLUMN body_html TEXT;
ALTER TABLE kb_articles ADD COLUMN body_html TEXT;
ALTER TABLE tasks ADD COLUMN description_html TEXT;
ALTER TABLE task_comments ADD COLUMN body_html TEXT;
ALTER TABLE profile_notes ADD COLUMN body_html TEXT;
CREATE TABLE markup_version (
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL
);
INSERT INTO markup_version (id, version) VALUES (1, 0);
