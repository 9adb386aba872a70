DELETE FROM conversations WHERE folder IS NOT NULL;
DROP TRIGGER conversations_count_update;
DROP TRIGGER conversations_count_delete;
DROP TRIGGER conversations_count_insert;
CREATE TRIGGER conversations_count_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO conversation_counts (team_key, assignee_key, status, n)
        VALUES (COALESCE(new.team_id, 0), COALESCE(new.assignee_id, 0), new.status, 1)
        ON CONFLICT (team_key, assignee_key, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER conversations_count_delete AFTER DELETE ON conversations BEGIN
    UPDATE conversation_counts SET n = n - 1
        WHERE team_key = COALESCE(old.team_id, 0) AND assignee_key = COALESCE(old.assignee_id, 0)
          AND status = old.status;
END;
CREATE TRIGGER conversations_count_update AFTER UPDATE OF status, assignee_id, team_id ON conversations
WHEN COALESCE(old.team_id, 0) <> COALESCE(new.team_id, 0)
  OR COALESCE(old.assignee_id, 0) <> COALESCE(new.assignee_id, 0)
  OR old.status <> new.status
BEGIN
    UPDATE conversation_counts SET n = n - 1
        WHERE team_key = COALESCE(old.team_id, 0) AND assignee_key = COALESCE(old.assignee_id, 0)
          AND status = old.status;
    INSERT INTO conversation_counts (team_key, assignee_key, status, n)
        VALUES (COALESCE(new.team_id, 0), COALESCE(new.assignee_id, 0), new.status, 1)
        ON CONFLICT (team_key, assignee_key, status) DO UPDATE SET n = n + 1;
END;
DROP INDEX conversations_moved;
ALTER TABLE customers DROP COLUMN blocked_at;
ALTER TABLE conversations DROP COLUMN moved_at;
ALTER TABLE conversations DROP COLUMN folder;
