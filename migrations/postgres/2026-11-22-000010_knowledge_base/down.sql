DROP TABLE kb_revisions;
DROP TABLE kb_articles;
DROP TABLE kb_sections;
DROP TABLE kb_categories;
