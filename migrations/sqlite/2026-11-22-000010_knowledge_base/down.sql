DROP TRIGGER kb_fts_update;
DROP TRIGGER kb_fts_delete;
DROP TRIGGER kb_fts_insert;
DROP TABLE kb_fts;
DROP TABLE kb_revisions;
DROP TABLE kb_articles;
DROP TABLE kb_sections;
DROP TABLE kb_categories;
