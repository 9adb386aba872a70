DROP INDEX conversations_snoozed;
DROP INDEX conversations_status_activity;
ALTER TABLE outbox DROP COLUMN references_header;
ALTER TABLE outbox DROP COLUMN in_reply_to;
ALTER TABLE outbox DROP COLUMN message_id;
DROP INDEX messages_email_message_id;
ALTER TABLE messages DROP COLUMN email_message_id;
DROP TABLE conversation_tags;
DROP TABLE tags;
