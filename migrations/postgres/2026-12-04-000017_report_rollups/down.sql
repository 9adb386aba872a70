DROP INDEX notifications_report;
DROP INDEX messages_author;
DROP TRIGGER messages_report_delete ON messages;
DROP TRIGGER messages_report_update ON messages;
DROP TRIGGER messages_report_insert ON messages;
DROP FUNCTION report_messages_apply();
DROP FUNCTION report_messages_add(messages[], messages[]);
DROP TRIGGER conversations_report_messages_delete ON conversations;
DROP FUNCTION report_conversation_messages_delete();
DROP TRIGGER conversations_report_delete ON conversations;
DROP TRIGGER conversations_report_update ON conversations;
DROP TRIGGER conversations_report_insert ON conversations;
DROP FUNCTION report_conversations_apply();
DROP FUNCTION report_conversations_add(conversations[], conversations[]);
DROP TABLE report_messages;
DROP TABLE report_duration_values;
DROP TABLE report_durations;
DROP TABLE report_days;
ALTER TABLE conversations DROP COLUMN resolution_bucket, DROP COLUMN resolution_seconds,
    DROP COLUMN first_response_bucket, DROP COLUMN first_response_seconds,
    DROP COLUMN first_reply_at;
DROP FUNCTION report_bucket(DOUBLE PRECISION);
DROP TRIGGER conversations_count_delete ON conversations;
DROP TRIGGER conversations_count_update ON conversations;
DROP TRIGGER conversations_count_insert ON conversations;
DROP FUNCTION conversation_counts_apply();
DROP TABLE conversation_counts;
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
