DROP INDEX notifications_report;
DROP INDEX messages_author;
DROP TRIGGER messages_report_update;
DROP TRIGGER messages_first_reply_delete;
DROP TRIGGER messages_report_delete;
DROP TRIGGER messages_first_reply_insert;
DROP TRIGGER messages_report_insert;
DROP TRIGGER conversations_report_messages_delete;
DROP TRIGGER conversations_report_team;
DROP TRIGGER conversations_report_update;
DROP TRIGGER conversations_report_delete;
DROP TRIGGER conversations_report_insert;
DROP TABLE report_messages;
DROP TABLE report_duration_values;
DROP TABLE report_durations;
DROP TABLE report_days;
ALTER TABLE conversations DROP COLUMN resolution_bucket;
ALTER TABLE conversations DROP COLUMN resolution_seconds;
ALTER TABLE conversations DROP COLUMN first_response_bucket;
ALTER TABLE conversations DROP COLUMN first_response_seconds;
ALTER TABLE conversations DROP COLUMN first_reply_at;
DROP TRIGGER conversations_count_update;
DROP TRIGGER conversations_count_delete;
DROP TRIGGER conversations_count_insert;
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
CREATE TRIGGER conversations_count_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO conversation_counts (team_key, assignee_key, done, n)
        VALUES (COALESCE(new.team_id, 0), COALESCE(new.assignee_id, 0), new.status = 'done', 1)
        ON CONFLICT (team_key, assignee_key, done) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER conversations_count_delete AFTER DELETE ON conversations BEGIN
    UPDATE conversation_counts SET n = n - 1
        WHERE team_key = COALESCE(old.team_id, 0) AND assignee_key = COALESCE(old.assignee_id, 0)
          AND done = (old.status = 'done');
END;
CREATE TRIGGER conversations_count_update AFTER UPDATE OF status, assignee_id, team_id ON conversations
WHEN COALESCE(old.team_id, 0) <> COALESCE(new.team_id, 0)
  OR COALESCE(old.assignee_id, 0) <> COALESCE(new.assignee_id, 0)
  OR (old.status = 'done') <> (new.status = 'done')
BEGIN
    UPDATE conversation_counts SET n = n - 1
        WHERE team_key = COALESCE(old.team_id, 0) AND assignee_key = COALESCE(old.assignee_id, 0)
          AND done = (old.status = 'done');
    INSERT INTO conversation_counts (team_key, assignee_key, done, n)
        VALUES (COALESCE(new.team_id, 0), COALESCE(new.assignee_id, 0), new.status = 'done', 1)
        ON CONFLICT (team_key, assignee_key, done) DO UPDATE SET n = n + 1;
END;
