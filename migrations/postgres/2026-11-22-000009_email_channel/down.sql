ALTER TABLE org_settings DROP COLUMN inbound_token_created_at;
ALTER TABLE org_settings DROP COLUMN inbound_token_hash;
DROP TABLE inbound_mail;
DROP INDEX outbox_message_id;
DROP TABLE outbox_attachments;
DROP TABLE attachments;
ALTER TABLE messages DROP COLUMN quoted;
ALTER TABLE messages DROP COLUMN source;
