DROP TABLE markup_version;
ALTER TABLE profile_notes DROP COLUMN body_html;
ALTER TABLE task_comments DROP COLUMN body_html;
ALTER TABLE tasks DROP COLUMN description_html;
ALTER TABLE kb_articles DROP COLUMN body_html;
ALTER TABLE messages DROP COLUMN body_html;
