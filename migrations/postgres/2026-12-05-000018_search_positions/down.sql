DROP TRIGGER messages_first_message_delete ON messages;
DROP TRIGGER messages_first_message_insert ON messages;
DROP FUNCTION conversations_first_message_delete();
DROP FUNCTION conversations_first_message_insert();
DROP INDEX conversations_search_position;
ALTER TABLE conversations DROP COLUMN first_message_id;
