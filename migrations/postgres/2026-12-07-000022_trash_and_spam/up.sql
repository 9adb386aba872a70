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
CREATE OR REPLACE FUNCTION conversation_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO conversation_counts (team_key, assignee_key, status, n)
            SELECT COALESCE(team_id, 0), COALESCE(assignee_id, 0), COALESCE(folder, status), COUNT(*)
            FROM new_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            ON CONFLICT (team_key, assignee_key, status)
            DO UPDATE SET n = conversation_counts.n + EXCLUDED.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO conversation_counts (team_key, assignee_key, status, n)
            SELECT COALESCE(team_id, 0), COALESCE(assignee_id, 0), COALESCE(folder, status), -COUNT(*)
            FROM old_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            ON CONFLICT (team_key, assignee_key, status)
            DO UPDATE SET n = conversation_counts.n + EXCLUDED.n;
    ELSE
        INSERT INTO conversation_counts (team_key, assignee_key, status, n)
            SELECT team_key, assignee_key, status, SUM(n) FROM (
                SELECT COALESCE(team_id, 0) AS team_key, COALESCE(assignee_id, 0) AS assignee_key,
                       COALESCE(folder, status) AS status, -1 AS n FROM old_rows
                UNION ALL
                SELECT COALESCE(team_id, 0), COALESCE(assignee_id, 0), COALESCE(folder, status), 1
                FROM new_rows
            ) moves GROUP BY 1, 2, 3 HAVING SUM(n) <> 0 ORDER BY 1, 2, 3
            ON CONFLICT (team_key, assignee_key, status)
            DO UPDATE SET n = conversation_counts.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END $$;
