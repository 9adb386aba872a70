-- Exact view counts in constant time: how many conversations each (team,
-- assignee, done) bucket holds, kept by triggers in the same transaction as
-- every insert, move and delete, whichever code path writes. 0 stands for
-- "no team" and "unassigned".
CREATE TABLE conversation_counts (
    team_key BIGINT NOT NULL,
    assignee_key BIGINT NOT NULL,
    done BOOLEAN NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (team_key, assignee_key, done)
);

INSERT INTO conversation_counts (team_key, assignee_key, done, n)
    SELECT COALESCE(team_id, 0), COALESCE(assignee_id, 0), status = 'done', COUNT(*)
    FROM conversations GROUP BY 1, 2, 3;

-- Statement triggers: one statement's changes are summed per bucket and
-- applied in key order, so concurrent writers lock counter rows in the same
-- order and cannot deadlock on them; moves that cancel out touch nothing.
CREATE FUNCTION conversation_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO conversation_counts (team_key, assignee_key, done, n)
            SELECT COALESCE(team_id, 0), COALESCE(assignee_id, 0), status = 'done', COUNT(*)
            FROM new_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            ON CONFLICT (team_key, assignee_key, done)
            DO UPDATE SET n = conversation_counts.n + EXCLUDED.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO conversation_counts (team_key, assignee_key, done, n)
            SELECT COALESCE(team_id, 0), COALESCE(assignee_id, 0), status = 'done', -COUNT(*)
            FROM old_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            ON CONFLICT (team_key, assignee_key, done)
            DO UPDATE SET n = conversation_counts.n + EXCLUDED.n;
    ELSE
        INSERT INTO conversation_counts (team_key, assignee_key, done, n)
            SELECT team_key, assignee_key, done, SUM(n) FROM (
                SELECT COALESCE(team_id, 0) AS team_key, COALESCE(assignee_id, 0) AS assignee_key,
                       status = 'done' AS done, -1 AS n FROM old_rows
                UNION ALL
                SELECT COALESCE(team_id, 0), COALESCE(assignee_id, 0), status = 'done', 1 FROM new_rows
            ) moves GROUP BY 1, 2, 3 HAVING SUM(n) <> 0 ORDER BY 1, 2, 3
            ON CONFLICT (team_key, assignee_key, done)
            DO UPDATE SET n = conversation_counts.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER conversations_count_insert AFTER INSERT ON conversations
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION conversation_counts_apply();
CREATE TRIGGER conversations_count_update AFTER UPDATE ON conversations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION conversation_counts_apply();
CREATE TRIGGER conversations_count_delete AFTER DELETE ON conversations
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION conversation_counts_apply();

-- The views walk open conversations newest activity first. `status <> 'done'`
-- is written literally in those queries, so these partial indexes apply to
-- every plan, generic ones included.
CREATE INDEX conversations_open_activity ON conversations (last_activity_at, id)
    WHERE status <> 'done';
CREATE INDEX conversations_open_assignee ON conversations (assignee_id, last_activity_at, id)
    WHERE status <> 'done';
CREATE INDEX conversations_open_team ON conversations (team_id, last_activity_at, id)
    WHERE status <> 'done';
