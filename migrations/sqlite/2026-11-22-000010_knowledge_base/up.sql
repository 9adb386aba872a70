-- The knowledge base: categories > sections > articles, ordered by hand;
-- articles per language (a translation points at its original), draft or
-- published, with every saved state kept as a revision.
CREATE TABLE kb_categories (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE kb_sections (
    id INTEGER PRIMARY KEY,
    category_id INTEGER NOT NULL REFERENCES kb_categories (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    slug TEXT NOT NULL,
    position INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX kb_sections_category ON kb_sections (category_id, position);
CREATE TABLE kb_articles (
    id INTEGER PRIMARY KEY,
    section_id INTEGER NOT NULL REFERENCES kb_sections (id) ON DELETE CASCADE,
    translation_of INTEGER REFERENCES kb_articles (id) ON DELETE CASCADE,
    language TEXT NOT NULL,
    title TEXT NOT NULL,
    slug TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('draft', 'published')),
    position INTEGER NOT NULL,
    author_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    editor_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    published_at TIMESTAMP
);
CREATE INDEX kb_articles_section ON kb_articles (section_id, position);
CREATE INDEX kb_articles_translation ON kb_articles (translation_of);
CREATE TABLE kb_revisions (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES kb_articles (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    editor_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    editor_name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX kb_revisions_article ON kb_revisions (article_id, id);

-- Full-text search over titles and bodies (external content, kept by triggers).
CREATE VIRTUAL TABLE kb_fts USING fts5(
    title, body, content = 'kb_articles', content_rowid = 'id',
    tokenize = 'porter unicode61'
);
CREATE TRIGGER kb_fts_insert AFTER INSERT ON kb_articles BEGIN
    INSERT INTO kb_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER kb_fts_delete AFTER DELETE ON kb_articles BEGIN
    INSERT INTO kb_fts (kb_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER kb_fts_update AFTER UPDATE OF title, body ON kb_articles BEGIN
    INSERT INTO kb_fts (kb_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO kb_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
