DROP TRIGGER messages_preview;
ALTER TABLE conversations DROP COLUMN waiting_since;
ALTER TABLE conversations DROP COLUMN preview;
