DROP INDEX conversations_activity;
DROP TABLE saved_searches;
DROP INDEX messages_body_tsv;
ALTER TABLE messages DROP COLUMN body_tsv;
DROP INDEX conversations_subject_tsv;
ALTER TABLE conversations DROP COLUMN subject_tsv;
