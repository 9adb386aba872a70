-- Reports from rollups: what a report adds up over its days is kept per UTC
-- day by triggers, in the same transaction as every write, whichever code
-- path writes, so a report reads a few rows per day instead of every
-- conversation and message of its range. 0 stands for "no team" and
-- "unassigned", as in conversation_counts.

-- View counts keep the status itself (the backlog counts by status).
DROP TRIGGER conversations_count_update;
DROP TRIGGER conversations_count_delete;
DROP TRIGGER conversations_count_insert;
DROP TABLE conversation_counts;
CREATE TABLE conversation_counts (
    team_key BIGINT NOT NULL,
    assignee_key BIGINT NOT NULL,
    status TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (team_key, assignee_key, status)
) WITHOUT ROWID;
INSERT INTO conversation_counts (team_key, assignee_key, status, n)
    SELECT COALESCE(team_id, 0), COALESCE(assignee_id, 0), status, COUNT(*)
    FROM conversations GROUP BY 1, 2, 3;
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

-- A conversation's first reply, kept by the triggers on messages below, and
-- the two durations reports rank, computed exactly as the reports always
-- did, with a bucket each: the number of digits of the whole seconds and
-- their first two digits in steps of five (monotonic in the seconds; below
-- one second, negative included, is bucket 0).
ALTER TABLE conversations ADD COLUMN first_reply_at TIMESTAMP;
UPDATE conversations SET first_reply_at = (
    SELECT MIN(m.created_at) FROM messages m
    WHERE m.conversation_id = conversations.id AND m.kind = 'reply');
ALTER TABLE conversations ADD COLUMN first_response_seconds REAL GENERATED ALWAYS AS (
    CAST(ROUND((julianday(first_reply_at) - julianday(created_at)) * 86400) AS REAL)) VIRTUAL;
ALTER TABLE conversations ADD COLUMN first_response_bucket INTEGER GENERATED ALWAYS AS (
    CASE WHEN first_response_seconds < 1 THEN 0
    ELSE length(CAST(CAST(first_response_seconds AS INTEGER) AS TEXT)) * 20
        + CAST(substr(CAST(CAST(first_response_seconds AS INTEGER) AS TEXT), 1, 2) AS INTEGER) / 5
    END) VIRTUAL;
ALTER TABLE conversations ADD COLUMN resolution_seconds REAL GENERATED ALWAYS AS (
    CASE WHEN status = 'done'
    THEN CAST(ROUND((julianday(closed_at) - julianday(created_at)) * 86400) AS REAL) END) VIRTUAL;
ALTER TABLE conversations ADD COLUMN resolution_bucket INTEGER GENERATED ALWAYS AS (
    CASE WHEN resolution_seconds < 1 THEN 0
    ELSE length(CAST(CAST(resolution_seconds AS INTEGER) AS TEXT)) * 20
        + CAST(substr(CAST(CAST(resolution_seconds AS INTEGER) AS TEXT), 1, 2) AS INTEGER) / 5
    END) VIRTUAL;
-- Opened (by the day created) and closed (status done, by the day closed)
-- per team and assignee.
CREATE TABLE report_days (
    day TEXT NOT NULL,
    team_key BIGINT NOT NULL,
    assignee_key BIGINT NOT NULL,
    opened BIGINT NOT NULL,
    closed BIGINT NOT NULL,
    PRIMARY KEY (day, team_key, assignee_key)
) WITHOUT ROWID;
-- How many first responses (by the day the conversation was opened) and
-- resolutions (by the day closed) fell in each bucket, per team.
CREATE TABLE report_durations (
    measure TEXT NOT NULL,
    day TEXT NOT NULL,
    team_key BIGINT NOT NULL,
    bucket BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (measure, day, team_key, bucket)
) WITHOUT ROWID;
-- The same counts per exact value, by bucket: a percentile's bucket is read
-- here, a row per distinct value, day and team.
CREATE TABLE report_duration_values (
    measure TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    day TEXT NOT NULL,
    team_key BIGINT NOT NULL,
    seconds REAL NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (measure, bucket, day, team_key, seconds)
) WITHOUT ROWID;
-- Replies and notes per author and team (the conversation's team now).
CREATE TABLE report_messages (
    day TEXT NOT NULL,
    team_key BIGINT NOT NULL,
    author_id BIGINT NOT NULL,
    replies BIGINT NOT NULL,
    notes BIGINT NOT NULL,
    PRIMARY KEY (day, team_key, author_id)
) WITHOUT ROWID;

INSERT INTO report_days (day, team_key, assignee_key, opened, closed)
    SELECT day, team_key, assignee_key, SUM(opened), SUM(closed) FROM (
        SELECT strftime('%Y-%m-%d', created_at) AS day, COALESCE(team_id, 0) AS team_key,
               COALESCE(assignee_id, 0) AS assignee_key, 1 AS opened, 0 AS closed
        FROM conversations
        UNION ALL
        SELECT strftime('%Y-%m-%d', closed_at), COALESCE(team_id, 0), COALESCE(assignee_id, 0), 0, 1
        FROM conversations WHERE status = 'done' AND closed_at IS NOT NULL
    ) WHERE true GROUP BY 1, 2, 3;
INSERT INTO report_durations (measure, day, team_key, bucket, n)
    SELECT 'first_response', strftime('%Y-%m-%d', created_at), COALESCE(team_id, 0),
           first_response_bucket, COUNT(*)
    FROM conversations WHERE first_response_bucket IS NOT NULL GROUP BY 2, 3, 4;
INSERT INTO report_durations (measure, day, team_key, bucket, n)
    SELECT 'resolution', strftime('%Y-%m-%d', closed_at), COALESCE(team_id, 0),
           resolution_bucket, COUNT(*)
    FROM conversations WHERE resolution_bucket IS NOT NULL GROUP BY 2, 3, 4;
INSERT INTO report_duration_values (measure, bucket, day, team_key, seconds, n)
    SELECT 'first_response', first_response_bucket, strftime('%Y-%m-%d', created_at),
           COALESCE(team_id, 0), first_response_seconds, COUNT(*)
    FROM conversations WHERE first_response_bucket IS NOT NULL GROUP BY 2, 3, 4, 5;
INSERT INTO report_duration_values (measure, bucket, day, team_key, seconds, n)
    SELECT 'resolution', resolution_bucket, strftime('%Y-%m-%d', closed_at),
           COALESCE(team_id, 0), resolution_seconds, COUNT(*)
    FROM conversations WHERE resolution_bucket IS NOT NULL GROUP BY 2, 3, 4, 5;
INSERT INTO report_messages (day, team_key, author_id, replies, notes)
    SELECT strftime('%Y-%m-%d', m.created_at), COALESCE(c.team_id, 0), m.author_user_id,
           SUM(m.kind = 'reply'), SUM(m.kind = 'note')
    FROM messages m JOIN conversations c ON c.id = m.conversation_id
    WHERE m.kind IN ('reply', 'note') AND m.author_user_id IS NOT NULL GROUP BY 1, 2, 3;

-- A conversation's own contributions, added (insert) or taken away (delete);
-- an update takes the old ones away and adds the new ones.
CREATE TRIGGER conversations_report_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO report_days (day, team_key, assignee_key, opened, closed)
        VALUES (strftime('%Y-%m-%d', new.created_at), COALESCE(new.team_id, 0),
                COALESCE(new.assignee_id, 0), 1, 0)
        ON CONFLICT (day, team_key, assignee_key) DO UPDATE SET opened = opened + 1;
    INSERT INTO report_days (day, team_key, assignee_key, opened, closed)
        SELECT strftime('%Y-%m-%d', new.closed_at), COALESCE(new.team_id, 0),
               COALESCE(new.assignee_id, 0), 0, 1
        WHERE new.status = 'done' AND new.closed_at IS NOT NULL
        ON CONFLICT (day, team_key, assignee_key) DO UPDATE SET closed = closed + 1;
    INSERT INTO report_durations (measure, day, team_key, bucket, n)
        SELECT 'first_response', strftime('%Y-%m-%d', new.created_at), COALESCE(new.team_id, 0),
               new.first_response_bucket, 1
        WHERE new.first_response_bucket IS NOT NULL
        ON CONFLICT (measure, day, team_key, bucket) DO UPDATE SET n = n + 1;
    INSERT INTO report_duration_values (measure, bucket, day, team_key, seconds, n)
        SELECT 'first_response', new.first_response_bucket, strftime('%Y-%m-%d', new.created_at), COALESCE(new.team_id, 0),
               new.first_response_seconds, 1
        WHERE new.first_response_bucket IS NOT NULL
        ON CONFLICT (measure, bucket, day, team_key, seconds) DO UPDATE SET n = n + 1;
    INSERT INTO report_durations (measure, day, team_key, bucket, n)
        SELECT 'resolution', strftime('%Y-%m-%d', new.closed_at), COALESCE(new.team_id, 0),
               new.resolution_bucket, 1
        WHERE new.resolution_bucket IS NOT NULL
        ON CONFLICT (measure, day, team_key, bucket) DO UPDATE SET n = n + 1;
    INSERT INTO report_duration_values (measure, bucket, day, team_key, seconds, n)
        SELECT 'resolution', new.resolution_bucket, strftime('%Y-%m-%d', new.closed_at), COALESCE(new.team_id, 0),
               new.resolution_seconds, 1
        WHERE new.resolution_bucket IS NOT NULL
        ON CONFLICT (measure, bucket, day, team_key, seconds) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER conversations_report_delete AFTER DELETE ON conversations BEGIN
    UPDATE report_days SET opened = opened - 1
        WHERE day = strftime('%Y-%m-%d', old.created_at) AND team_key = COALESCE(old.team_id, 0)
          AND assignee_key = COALESCE(old.assignee_id, 0);
    UPDATE report_days SET closed = closed - 1
        WHERE old.status = 'done' AND day = strftime('%Y-%m-%d', old.closed_at)
          AND team_key = COALESCE(old.team_id, 0) AND assignee_key = COALESCE(old.assignee_id, 0);
    UPDATE report_durations SET n = n - 1
        WHERE measure = 'first_response' AND day = strftime('%Y-%m-%d', old.created_at)
          AND team_key = COALESCE(old.team_id, 0) AND bucket = old.first_response_bucket;
    UPDATE report_duration_values SET n = n - 1
        WHERE measure = 'first_response' AND bucket = old.first_response_bucket
          AND day = strftime('%Y-%m-%d', old.created_at) AND team_key = COALESCE(old.team_id, 0)
          AND seconds = old.first_response_seconds;
    UPDATE report_durations SET n = n - 1
        WHERE measure = 'resolution' AND day = strftime('%Y-%m-%d', old.closed_at)
          AND team_key = COALESCE(old.team_id, 0) AND bucket = old.resolution_bucket;
    UPDATE report_duration_values SET n = n - 1
        WHERE measure = 'resolution' AND bucket = old.resolution_bucket
          AND day = strftime('%Y-%m-%d', old.closed_at) AND team_key = COALESCE(old.team_id, 0)
          AND seconds = old.resolution_seconds;
END;

CREATE TRIGGER conversations_report_update
AFTER UPDATE OF created_at, closed_at, status, team_id, assignee_id, first_reply_at ON conversations
WHEN old.created_at IS NOT new.created_at OR old.closed_at IS NOT new.closed_at
  OR old.status IS NOT new.status OR old.team_id IS NOT new.team_id
  OR old.assignee_id IS NOT new.assignee_id OR old.first_reply_at IS NOT new.first_reply_at
BEGIN
    UPDATE report_days SET opened = opened - 1
        WHERE day = strftime('%Y-%m-%d', old.created_at) AND team_key = COALESCE(old.team_id, 0)
          AND assignee_key = COALESCE(old.assignee_id, 0);
    UPDATE report_days SET closed = closed - 1
        WHERE old.status = 'done' AND day = strftime('%Y-%m-%d', old.closed_at)
          AND team_key = COALESCE(old.team_id, 0) AND assignee_key = COALESCE(old.assignee_id, 0);
    UPDATE report_durations SET n = n - 1
        WHERE measure = 'first_response' AND day = strftime('%Y-%m-%d', old.created_at)
          AND team_key = COALESCE(old.team_id, 0) AND bucket = old.first_response_bucket;
    UPDATE report_duration_values SET n = n - 1
        WHERE measure = 'first_response' AND bucket = old.first_response_bucket
          AND day = strftime('%Y-%m-%d', old.created_at) AND team_key = COALESCE(old.team_id, 0)
          AND seconds = old.first_response_seconds;
    UPDATE report_durations SET n = n - 1
        WHERE measure = 'resolution' AND day = strftime('%Y-%m-%d', old.closed_at)
          AND team_key = COALESCE(old.team_id, 0) AND bucket = old.resolution_bucket;
    UPDATE report_duration_values SET n = n - 1
        WHERE measure = 'resolution' AND bucket = old.resolution_bucket
          AND day = strftime('%Y-%m-%d', old.closed_at) AND team_key = COALESCE(old.team_id, 0)
          AND seconds = old.resolution_seconds;
    INSERT INTO report_days (day, team_key, assignee_key, opened, closed)
        VALUES (strftime('%Y-%m-%d', new.created_at), COALESCE(new.team_id, 0),
                COALESCE(new.assignee_id, 0), 1, 0)
        ON CONFLICT (day, team_key, assignee_key) DO UPDATE SET opened = opened + 1;
    INSERT INTO report_days (day, team_key, assignee_key, opened, closed)
        SELECT strftime('%Y-%m-%d', new.closed_at), COALESCE(new.team_id, 0),
               COALESCE(new.assignee_id, 0), 0, 1
        WHERE new.status = 'done' AND new.closed_at IS NOT NULL
        ON CONFLICT (day, team_key, assignee_key) DO UPDATE SET closed = closed + 1;
    INSERT INTO report_durations (measure, day, team_key, bucket, n)
        SELECT 'first_response', strftime('%Y-%m-%d', new.created_at), COALESCE(new.team_id, 0),
               new.first_response_bucket, 1
        WHERE new.first_response_bucket IS NOT NULL
        ON CONFLICT (measure, day, team_key, bucket) DO UPDATE SET n = n + 1;
    INSERT INTO report_duration_values (measure, bucket, day, team_key, seconds, n)
        SELECT 'first_response', new.first_response_bucket, strftime('%Y-%m-%d', new.created_at), COALESCE(new.team_id, 0),
               new.first_response_seconds, 1
        WHERE new.first_response_bucket IS NOT NULL
        ON CONFLICT (measure, bucket, day, team_key, seconds) DO UPDATE SET n = n + 1;
    INSERT INTO report_durations (measure, day, team_key, bucket, n)
        SELECT 'resolution', strftime('%Y-%m-%d', new.closed_at), COALESCE(new.team_id, 0),
               new.resolution_bucket, 1
        WHERE new.resolution_bucket IS NOT NULL
        ON CONFLICT (measure, day, team_key, bucket) DO UPDATE SET n = n + 1;
    INSERT INTO report_duration_values (measure, bucket, day, team_key, seconds, n)
        SELECT 'resolution', new.resolution_bucket, strftime('%Y-%m-%d', new.closed_at), COALESCE(new.team_id, 0),
               new.resolution_seconds, 1
        WHERE new.resolution_bucket IS NOT NULL
        ON CONFLICT (measure, bucket, day, team_key, seconds) DO UPDATE SET n = n + 1;
END;

-- A conversation moved to another team takes its messages' counts along.
CREATE TRIGGER conversations_report_team AFTER UPDATE OF team_id ON conversations
WHEN old.team_id IS NOT new.team_id
BEGIN
    INSERT INTO report_messages (day, team_key, author_id, replies, notes)
        SELECT strftime('%Y-%m-%d', m.created_at), COALESCE(new.team_id, 0), m.author_user_id,
               SUM(m.kind = 'reply'), SUM(m.kind = 'note')
        FROM messages m
        WHERE m.conversation_id = new.id AND m.kind IN ('reply', 'note')
          AND m.author_user_id IS NOT NULL
        GROUP BY 1, 3
        ON CONFLICT (day, team_key, author_id)
        DO UPDATE SET replies = replies + excluded.replies, notes = notes + excluded.notes;
    INSERT INTO report_messages (day, team_key, author_id, replies, notes)
        SELECT strftime('%Y-%m-%d', m.created_at), COALESCE(old.team_id, 0), m.author_user_id,
               -SUM(m.kind = 'reply'), -SUM(m.kind = 'note')
        FROM messages m
        WHERE m.conversation_id = old.id AND m.kind IN ('reply', 'note')
          AND m.author_user_id IS NOT NULL
        GROUP BY 1, 3
        ON CONFLICT (day, team_key, author_id)
        DO UPDATE SET replies = replies + excluded.replies, notes = notes + excluded.notes;
END;

-- A deleted conversation's messages go by cascade after it, when their own
-- trigger can no longer find its team: their counts are taken away first.
CREATE TRIGGER conversations_report_messages_delete BEFORE DELETE ON conversations BEGIN
    INSERT INTO report_messages (day, team_key, author_id, replies, notes)
        SELECT strftime('%Y-%m-%d', m.created_at), COALESCE(old.team_id, 0), m.author_user_id,
               -SUM(m.kind = 'reply'), -SUM(m.kind = 'note')
        FROM messages m
        WHERE m.conversation_id = old.id AND m.kind IN ('reply', 'note')
          AND m.author_user_id IS NOT NULL
        GROUP BY 1, 3
        ON CONFLICT (day, team_key, author_id)
        DO UPDATE SET replies = replies + excluded.replies, notes = notes + excluded.notes;
END;

CREATE TRIGGER messages_report_insert AFTER INSERT ON messages
WHEN new.kind IN ('reply', 'note') AND new.author_user_id IS NOT NULL
BEGIN
    INSERT INTO report_messages (day, team_key, author_id, replies, notes)
        SELECT strftime('%Y-%m-%d', new.created_at), COALESCE(c.team_id, 0), new.author_user_id,
               new.kind = 'reply', new.kind = 'note'
        FROM conversations c WHERE c.id = new.conversation_id
        ON CONFLICT (day, team_key, author_id)
        DO UPDATE SET replies = replies + excluded.replies, notes = notes + excluded.notes;
END;
CREATE TRIGGER messages_first_reply_insert AFTER INSERT ON messages
WHEN new.kind = 'reply'
BEGIN
    UPDATE conversations SET first_reply_at = new.created_at
        WHERE id = new.conversation_id
          AND (first_reply_at IS NULL OR first_reply_at > new.created_at);
END;

CREATE TRIGGER messages_report_delete AFTER DELETE ON messages
WHEN old.kind IN ('reply', 'note') AND old.author_user_id IS NOT NULL
BEGIN
    UPDATE report_messages
        SET replies = replies - (old.kind = 'reply'), notes = notes - (old.kind = 'note')
        WHERE day = strftime('%Y-%m-%d', old.created_at) AND author_id = old.author_user_id
          AND team_key = (SELECT COALESCE(c.team_id, 0) FROM conversations c
                          WHERE c.id = old.conversation_id);
END;
CREATE TRIGGER messages_first_reply_delete AFTER DELETE ON messages
WHEN old.kind = 'reply'
BEGIN
    UPDATE conversations SET first_reply_at = (
            SELECT MIN(m.created_at) FROM messages m
            WHERE m.conversation_id = old.conversation_id AND m.kind = 'reply')
        WHERE id = old.conversation_id AND first_reply_at = old.created_at;
END;

CREATE TRIGGER messages_report_update
AFTER UPDATE OF conversation_id, kind, author_user_id, created_at ON messages
WHEN old.conversation_id IS NOT new.conversation_id OR old.kind IS NOT new.kind
  OR old.author_user_id IS NOT new.author_user_id OR old.created_at IS NOT new.created_at
BEGIN
    UPDATE report_messages
        SET replies = replies - (old.kind = 'reply'), notes = notes - (old.kind = 'note')
        WHERE old.kind IN ('reply', 'note') AND day = strftime('%Y-%m-%d', old.created_at)
          AND author_id = old.author_user_id
          AND team_key = (SELECT COALESCE(c.team_id, 0) FROM conversations c
                          WHERE c.id = old.conversation_id);
    INSERT INTO report_messages (day, team_key, author_id, replies, notes)
        SELECT strftime('%Y-%m-%d', new.created_at), COALESCE(c.team_id, 0), new.author_user_id,
               new.kind = 'reply', new.kind = 'note'
        FROM conversations c
        WHERE c.id = new.conversation_id AND new.kind IN ('reply', 'note')
          AND new.author_user_id IS NOT NULL
        ON CONFLICT (day, team_key, author_id)
        DO UPDATE SET replies = replies + excluded.replies, notes = notes + excluded.notes;
    UPDATE conversations SET first_reply_at = (
            SELECT MIN(m.created_at) FROM messages m
            WHERE m.conversation_id = conversations.id AND m.kind = 'reply')
        WHERE id IN (old.conversation_id, new.conversation_id);
END;

-- What the collaborators' table reads: a person's notes in a range.
CREATE INDEX messages_author ON messages (author_user_id, kind, created_at, conversation_id);
CREATE INDEX notifications_report ON notifications (kind, created_at, actor_id, conversation_id);
