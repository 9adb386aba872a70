DELETE FROM conversations WHERE folder IS NOT NULL;
CREATE OR REPLACE FUNCTION conversation_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO conversation_counts (team_key, assignee_key, status, n)
            SELECT COALESCE(team_id, 0), COALESCE(assignee_id, 0), status, COUNT(*)
            FROM new_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            ON CONFLICT (team_key, assignee_key, status)
            DO UPDATE SET n = conversation_counts.n + EXCLUDED.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO conversation_counts (team_key, assignee_key, status, n)
            SELECT COALESCE(team_id, 0), COALESCE(assignee_id, 0), status, -COUNT(*)
            FROM old_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            ON CONFLICT (team_key, assignee_key, status)
            DO UPDATE SET n = conversation_counts.n + EXCLUDED.n;
    ELSE
        INSERT INTO conversation_counts (team_key, assignee_key, status, n)
            SELECT team_key, assignee_key, status, SUM(n) FROM (
                SELECT COALESCE(team_id, 0) AS team_key, COALESCE(assignee_id, 0) AS assignee_key,
                       status, -1 AS n FROM old_rows
                UNION ALL
                SELECT COALESCE(team_id, 0), COALESCE(assignee_id, 0), status, 1 FROM new_rows
            ) moves GROUP BY 1, 2, 3 HAVING SUM(n) <> 0 ORDER BY 1, 2, 3
            ON CONFLICT (team_key, assignee_key, status)
            DO UPDATE SET n = conversation_counts.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END $$;
DROP INDEX conversations_moved;
ALTER TABLE customers DROP COLUMN blocked_at;
ALTER TABLE conversations DROP COLUMN moved_at;
ALTER TABLE conversations DROP COLUMN folder;
