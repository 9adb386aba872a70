DROP INDEX conversations_activity;
DROP TABLE saved_searches;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_insert;
DROP TRIGGER conversations_fts_delete;
DROP TRIGGER conversations_fts_update;
DROP TRIGGER conversations_fts_insert;
DROP TABLE conversation_fts;
