-- Trash and Spam. A conversation moved to one of them (`folder`, with the
-- time in `moved_at`) leaves every other view and search; the worker purges
-- it 30 days after the move. A customer whose conversation was marked as
-- spam is blocked (`blocked_at`): their mail goes straight to Spam.
ALTER TABLE conversations ADD COLUMN folder TEXT CHECK (folder IN ('trash', 'spam'));
ALTER TABLE conversations ADD COLUMN moved_at TIMESTAMP;
CREATE INDEX conversations_moved ON conversations (folder, last_activity_at, id)
    WHERE folder IS NOT NULL;
ALTER TABLE customers ADD COLUMN blocked_at TIMESTAMP;

-- View counts: a moved conversation counts under its folder's name, not
-- its status (no conversation is in a folder yet, so the rows stand).
DROP TRIGGER conversations_count_update;
DROP TRIGGER conversations_count_delete;
DROP TRIGGER conversations_count_insert;
CREATE TRIGGER conversations_count_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO conversation_counts (team_key, assignee_key, status, n)
        VALUES (COALESCE(new.team_id, 0), COALESCE(new.assignee_id, 0),
                COALESCE(new.folder, new.status), 1)
        ON CONFLICT (team_key, assignee_key, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER conversations_count_delete AFTER DELETE ON conversations BEGIN
    UPDATE conversation_counts SET n = n - 1
        WHERE team_key = COALESCE(old.team_id, 0) AND assignee_key = COALESCE(old.assignee_id, 0)
          AND status = COALESCE(old.folder, old.status);
END;
CREATE TRIGGER conversations_count_update
AFTER UPDATE OF status, assignee_id, team_id, folder ON conversations
WHEN COALESCE(old.team_id, 0) <> COALESCE(new.team_id, 0)
  OR COALESCE(old.assignee_id, 0) <> COALESCE(new.assignee_id, 0)
  OR COALESCE(old.folder, old.status) <> COALESCE(new.folder, new.status)
BEGIN
    UPDATE conversation_counts SET n = n - 1
        WHERE team_key = COALESCE(old.team_id, 0) AND assignee_key = COALESCE(old.assignee_id, 0)
          AND status = COALESCE(old.folder, old.status);
    INSERT INTO conversation_counts (team_key, assignee_key, status, n)
        VALUES (COALESCE(new.team_id, 0), COALESCE(new.assignee_id, 0),
                COALESCE(new.folder, new.status), 1)
        ON CONFLICT (team_key, assignee_key, status) DO UPDATE SET n = n + 1;
END;
