DROP TRIGGER messages_preview ON messages;
DROP FUNCTION conversation_preview_apply();
ALTER TABLE conversations DROP COLUMN waiting_since;
ALTER TABLE conversations DROP COLUMN preview;
