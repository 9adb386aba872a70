-- Reports from rollups: what a report adds up over its days is kept per UTC
-- day by triggers, in the same transaction as every write, whichever code
-- path writes, so a report reads a few rows per day instead of every
-- conversation and message of its range. 0 stands for "no team" and
-- "unassigned", as in conversation_counts. Like those counts, every trigger
-- sums one statement's changes per key and applies them in key order, so
-- concurrent writers lock rollup rows in the same order.

-- View counts keep the status itself (the backlog counts by status).
DROP TRIGGER conversations_count_delete ON conversations;
DROP TRIGGER conversations_count_update ON conversations;
DROP TRIGGER conversations_count_insert ON conversations;
DROP FUNCTION conversation_counts_apply();
DROP TABLE conversation_counts;
CREATE TABLE conversation_counts (
    team_key BIGINT NOT NULL,
    assignee_key BIGINT NOT NULL,
    status TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (team_key, assignee_key, status)
);
INSERT INTO conversation_counts (team_key, assignee_key, status, n)
    SELECT COALESCE(team_id, 0), COALESCE(assignee_id, 0), status, COUNT(*)
    FROM conversations GROUP BY 1, 2, 3;
CREATE FUNCTION conversation_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER conversations_count_insert AFTER INSERT ON conversations
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION conversation_counts_apply();
CREATE TRIGGER conversations_count_update AFTER UPDATE ON conversations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION conversation_counts_apply();
CREATE TRIGGER conversations_count_delete AFTER DELETE ON conversations
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION conversation_counts_apply();

-- A conversation's first reply, kept by the triggers on messages below, and
-- the two durations reports rank, computed exactly as the reports always
-- did, with a bucket each: the number of digits of the whole seconds and
-- their first two digits in steps of five (monotonic in the seconds; below
-- one second, negative included, is bucket 0).
CREATE FUNCTION report_bucket(seconds DOUBLE PRECISION) RETURNS INTEGER
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN seconds < 1 THEN 0
    ELSE length(CAST(CAST(floor(seconds) AS BIGINT) AS TEXT)) * 20
        + CAST(substr(CAST(CAST(floor(seconds) AS BIGINT) AS TEXT), 1, 2) AS INTEGER) / 5
    END
$$;
ALTER TABLE conversations ADD COLUMN first_reply_at TIMESTAMP;
UPDATE conversations c SET first_reply_at = f.first_at
    FROM (SELECT conversation_id, MIN(created_at) AS first_at FROM messages
          WHERE kind = 'reply' GROUP BY conversation_id) f
    WHERE c.id = f.conversation_id;
ALTER TABLE conversations
    ADD COLUMN first_response_seconds DOUBLE PRECISION GENERATED ALWAYS AS (
        CAST(EXTRACT(EPOCH FROM (first_reply_at - created_at)) AS DOUBLE PRECISION)) STORED,
    ADD COLUMN first_response_bucket INTEGER GENERATED ALWAYS AS (report_bucket(
        CAST(EXTRACT(EPOCH FROM (first_reply_at - created_at)) AS DOUBLE PRECISION))) STORED,
    ADD COLUMN resolution_seconds DOUBLE PRECISION GENERATED ALWAYS AS (
        CASE WHEN status = 'done'
        THEN CAST(EXTRACT(EPOCH FROM (closed_at - created_at)) AS DOUBLE PRECISION) END) STORED,
    ADD COLUMN resolution_bucket INTEGER GENERATED ALWAYS AS (report_bucket(
        CASE WHEN status = 'done'
        THEN CAST(EXTRACT(EPOCH FROM (closed_at - created_at)) AS DOUBLE PRECISION) END)) STORED;
-- Opened (by the day created) and closed (status done, by the day closed)
-- per team and assignee.
CREATE TABLE report_days (
    day DATE NOT NULL,
    team_key BIGINT NOT NULL,
    assignee_key BIGINT NOT NULL,
    opened BIGINT NOT NULL,
    closed BIGINT NOT NULL,
    PRIMARY KEY (day, team_key, assignee_key)
);
-- How many first responses (by the day the conversation was opened) and
-- resolutions (by the day closed) fell in each bucket, per team.
CREATE TABLE report_durations (
    measure TEXT NOT NULL,
    day DATE NOT NULL,
    team_key BIGINT NOT NULL,
    bucket BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (measure, day, team_key, bucket)
);
-- The same counts per exact value, by bucket: a percentile's bucket is read
-- here, a row per distinct value, day and team.
CREATE TABLE report_duration_values (
    measure TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    day DATE NOT NULL,
    team_key BIGINT NOT NULL,
    seconds DOUBLE PRECISION NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (measure, bucket, day, team_key, seconds)
);
-- Replies and notes per author and team (the conversation's team now).
CREATE TABLE report_messages (
    day DATE NOT NULL,
    team_key BIGINT NOT NULL,
    author_id BIGINT NOT NULL,
    replies BIGINT NOT NULL,
    notes BIGINT NOT NULL,
    PRIMARY KEY (day, team_key, author_id)
);

-- One statement's conversation rows, the old ones taking their contribution
-- away and the new ones adding theirs, summed per key into the day and
-- duration rollups. The triggers pass their transition tables as arrays
-- (only the trigger function itself can read them), so these statements
-- are planned once per connection.
CREATE FUNCTION report_conversations_add(old_rows conversations[], new_rows conversations[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH changed AS MATERIALIZED (
        SELECT o.*, -1 AS sign FROM unnest(old_rows) o
        UNION ALL SELECT n.*, 1 FROM unnest(new_rows) n
    ), days AS (
        INSERT INTO report_days (day, team_key, assignee_key, opened, closed)
        SELECT day, team_key, assignee_key, SUM(opened), SUM(closed) FROM (
            SELECT CAST(created_at AS DATE) AS day, COALESCE(team_id, 0) AS team_key,
                   COALESCE(assignee_id, 0) AS assignee_key, sign AS opened, 0 AS closed
            FROM changed
            UNION ALL
            SELECT CAST(closed_at AS DATE), COALESCE(team_id, 0), COALESCE(assignee_id, 0), 0, sign
            FROM changed WHERE status = 'done' AND closed_at IS NOT NULL
        ) d GROUP BY 1, 2, 3 HAVING SUM(opened) <> 0 OR SUM(closed) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (day, team_key, assignee_key) DO UPDATE
        SET opened = report_days.opened + EXCLUDED.opened,
            closed = report_days.closed + EXCLUDED.closed
    ), durations AS MATERIALIZED (
        SELECT 'first_response' AS measure, first_response_bucket AS bucket,
               CAST(created_at AS DATE) AS day, COALESCE(team_id, 0) AS team_key,
               first_response_seconds AS seconds, sign
        FROM changed WHERE first_response_bucket IS NOT NULL
        UNION ALL
        SELECT 'resolution', resolution_bucket, CAST(closed_at AS DATE), COALESCE(team_id, 0),
               resolution_seconds, sign
        FROM changed WHERE resolution_bucket IS NOT NULL
    ), buckets AS (
        INSERT INTO report_durations (measure, day, team_key, bucket, n)
        SELECT measure, day, team_key, bucket, SUM(sign) FROM durations
        GROUP BY 1, 2, 3, 4 HAVING SUM(sign) <> 0 ORDER BY 1, 2, 3, 4
        ON CONFLICT (measure, day, team_key, bucket) DO UPDATE
        SET n = report_durations.n + EXCLUDED.n
    )
    INSERT INTO report_duration_values (measure, bucket, day, team_key, seconds, n)
    SELECT measure, bucket, day, team_key, seconds, SUM(sign) FROM durations
    GROUP BY 1, 2, 3, 4, 5 HAVING SUM(sign) <> 0 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (measure, bucket, day, team_key, seconds) DO UPDATE
    SET n = report_duration_values.n + EXCLUDED.n;

    -- A conversation moved to another team takes its messages' counts along.
    IF EXISTS (SELECT 1 FROM unnest(old_rows) o JOIN unnest(new_rows) n ON n.id = o.id
               WHERE o.team_id IS DISTINCT FROM n.team_id) THEN
        INSERT INTO report_messages (day, team_key, author_id, replies, notes)
        SELECT CAST(m.created_at AS DATE), t.team_key, m.author_user_id,
               SUM(CASE WHEN m.kind = 'reply' THEN t.sign ELSE 0 END),
               SUM(CASE WHEN m.kind = 'note' THEN t.sign ELSE 0 END)
        FROM (
            SELECT o.id, COALESCE(o.team_id, 0) AS team_key, -1 AS sign
            FROM unnest(old_rows) o JOIN unnest(new_rows) n ON n.id = o.id
            WHERE o.team_id IS DISTINCT FROM n.team_id
            UNION ALL
            SELECT n.id, COALESCE(n.team_id, 0), 1
            FROM unnest(old_rows) o JOIN unnest(new_rows) n ON n.id = o.id
            WHERE o.team_id IS DISTINCT FROM n.team_id
        ) t JOIN messages m ON m.conversation_id = t.id
        WHERE m.kind IN ('reply', 'note') AND m.author_user_id IS NOT NULL
        GROUP BY 1, 2, 3
        HAVING SUM(CASE WHEN m.kind = 'reply' THEN t.sign ELSE 0 END) <> 0
            OR SUM(CASE WHEN m.kind = 'note' THEN t.sign ELSE 0 END) <> 0
        ORDER BY 1, 2, 3
        ON CONFLICT (day, team_key, author_id) DO UPDATE
        SET replies = report_messages.replies + EXCLUDED.replies,
            notes = report_messages.notes + EXCLUDED.notes;
    END IF;
END $$;

CREATE FUNCTION report_conversations_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM report_conversations_add('{}', ARRAY(SELECT CAST(ROW(n.*) AS conversations) FROM new_rows n));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM report_conversations_add(ARRAY(SELECT CAST(ROW(o.*) AS conversations) FROM old_rows o), '{}');
    ELSIF EXISTS (
        -- Most updates (activity, subject, priority) move nothing.
        SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.created_at, o.closed_at, o.status, o.team_id, o.assignee_id, o.first_reply_at)
            IS DISTINCT FROM (n.created_at, n.closed_at, n.status, n.team_id, n.assignee_id, n.first_reply_at)
    ) THEN
        PERFORM report_conversations_add(
            ARRAY(SELECT CAST(ROW(o.*) AS conversations) FROM old_rows o),
            ARRAY(SELECT CAST(ROW(n.*) AS conversations) FROM new_rows n));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER conversations_report_insert AFTER INSERT ON conversations
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_conversations_apply();
CREATE TRIGGER conversations_report_update AFTER UPDATE ON conversations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_conversations_apply();
CREATE TRIGGER conversations_report_delete AFTER DELETE ON conversations
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_conversations_apply();

-- A deleted conversation's messages go by cascade after it, when their own
-- trigger can no longer find its team: their counts are taken away first.
CREATE FUNCTION report_conversation_messages_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_messages (day, team_key, author_id, replies, notes)
    SELECT CAST(m.created_at AS DATE), COALESCE(OLD.team_id, 0), m.author_user_id,
           -SUM(CASE WHEN m.kind = 'reply' THEN 1 ELSE 0 END),
           -SUM(CASE WHEN m.kind = 'note' THEN 1 ELSE 0 END)
    FROM messages m
    WHERE m.conversation_id = OLD.id AND m.kind IN ('reply', 'note') AND m.author_user_id IS NOT NULL
    GROUP BY 1, 3 ORDER BY 1, 3
    ON CONFLICT (day, team_key, author_id) DO UPDATE
    SET replies = report_messages.replies + EXCLUDED.replies,
        notes = report_messages.notes + EXCLUDED.notes;
    RETURN OLD;
END $$;
CREATE TRIGGER conversations_report_messages_delete BEFORE DELETE ON conversations
    FOR EACH ROW EXECUTE FUNCTION report_conversation_messages_delete();

-- One statement's message rows, the old ones taking their contribution away
-- and the new ones adding theirs: replies and notes per author and team,
-- and the first replies of their conversations (arrays, as above).
CREATE FUNCTION report_messages_add(old_rows messages[], new_rows messages[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_messages (day, team_key, author_id, replies, notes)
    SELECT CAST(r.created_at AS DATE), COALESCE(c.team_id, 0), r.author_user_id,
           SUM(CASE WHEN r.kind = 'reply' THEN r.sign ELSE 0 END),
           SUM(CASE WHEN r.kind = 'note' THEN r.sign ELSE 0 END)
    FROM (SELECT o.*, -1 AS sign FROM unnest(old_rows) o
          UNION ALL SELECT n.*, 1 FROM unnest(new_rows) n) r
    JOIN conversations c ON c.id = r.conversation_id
    WHERE r.kind IN ('reply', 'note') AND r.author_user_id IS NOT NULL
    GROUP BY 1, 2, 3
    HAVING SUM(CASE WHEN r.kind = 'reply' THEN r.sign ELSE 0 END) <> 0
        OR SUM(CASE WHEN r.kind = 'note' THEN r.sign ELSE 0 END) <> 0
    ORDER BY 1, 2, 3
    ON CONFLICT (day, team_key, author_id) DO UPDATE
    SET replies = report_messages.replies + EXCLUDED.replies,
        notes = report_messages.notes + EXCLUDED.notes;
    IF cardinality(old_rows) = 0 THEN
        -- New replies can only make a first reply earlier.
        UPDATE conversations c SET first_reply_at = f.first_at
        FROM (SELECT n.conversation_id, MIN(n.created_at) AS first_at FROM unnest(new_rows) n
              WHERE n.kind = 'reply' GROUP BY n.conversation_id) f
        WHERE c.id = f.conversation_id
          AND (c.first_reply_at IS NULL OR c.first_reply_at > f.first_at);
    ELSE
        UPDATE conversations c SET first_reply_at = f.first_at
        FROM (SELECT t.conversation_id,
                     (SELECT MIN(m.created_at) FROM messages m
                      WHERE m.conversation_id = t.conversation_id AND m.kind = 'reply') AS first_at
              FROM (SELECT o.conversation_id FROM unnest(old_rows) o WHERE o.kind = 'reply'
                    UNION SELECT n.conversation_id FROM unnest(new_rows) n WHERE n.kind = 'reply') t) f
        WHERE c.id = f.conversation_id AND c.first_reply_at IS DISTINCT FROM f.first_at;
    END IF;
END $$;

CREATE FUNCTION report_messages_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM report_messages_add('{}', ARRAY(SELECT CAST(ROW(n.*) AS messages) FROM new_rows n));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM report_messages_add(ARRAY(SELECT CAST(ROW(o.*) AS messages) FROM old_rows o), '{}');
    ELSIF EXISTS (
        -- Most updates (the stored HTML) move nothing.
        SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.conversation_id, o.kind, o.author_user_id, o.created_at)
            IS DISTINCT FROM (n.conversation_id, n.kind, n.author_user_id, n.created_at)
    ) THEN
        PERFORM report_messages_add(
            ARRAY(SELECT CAST(ROW(o.*) AS messages) FROM old_rows o),
            ARRAY(SELECT CAST(ROW(n.*) AS messages) FROM new_rows n));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER messages_report_insert AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_messages_apply();
CREATE TRIGGER messages_report_update AFTER UPDATE ON messages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_messages_apply();
CREATE TRIGGER messages_report_delete AFTER DELETE ON messages
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_messages_apply();

INSERT INTO report_days (day, team_key, assignee_key, opened, closed)
    SELECT day, team_key, assignee_key, SUM(opened), SUM(closed) FROM (
        SELECT CAST(created_at AS DATE) AS day, COALESCE(team_id, 0) AS team_key,
               COALESCE(assignee_id, 0) AS assignee_key, 1 AS opened, 0 AS closed
        FROM conversations
        UNION ALL
        SELECT CAST(closed_at AS DATE), COALESCE(team_id, 0), COALESCE(assignee_id, 0), 0, 1
        FROM conversations WHERE status = 'done' AND closed_at IS NOT NULL
    ) d GROUP BY 1, 2, 3;
INSERT INTO report_durations (measure, day, team_key, bucket, n)
    SELECT 'first_response', CAST(created_at AS DATE), COALESCE(team_id, 0),
           first_response_bucket, COUNT(*)
    FROM conversations WHERE first_response_bucket IS NOT NULL GROUP BY 2, 3, 4;
INSERT INTO report_durations (measure, day, team_key, bucket, n)
    SELECT 'resolution', CAST(closed_at AS DATE), COALESCE(team_id, 0),
           resolution_bucket, COUNT(*)
    FROM conversations WHERE resolution_bucket IS NOT NULL GROUP BY 2, 3, 4;
INSERT INTO report_duration_values (measure, bucket, day, team_key, seconds, n)
    SELECT 'first_response', first_response_bucket, CAST(created_at AS DATE),
           COALESCE(team_id, 0), first_response_seconds, COUNT(*)
    FROM conversations WHERE first_response_bucket IS NOT NULL GROUP BY 2, 3, 4, 5;
INSERT INTO report_duration_values (measure, bucket, day, team_key, seconds, n)
    SELECT 'resolution', resolution_bucket, CAST(closed_at AS DATE),
           COALESCE(team_id, 0), resolution_seconds, COUNT(*)
    FROM conversations WHERE resolution_bucket IS NOT NULL GROUP BY 2, 3, 4, 5;
INSERT INTO report_messages (day, team_key, author_id, replies, notes)
    SELECT CAST(m.created_at AS DATE), COALESCE(c.team_id, 0), m.author_user_id,
           SUM(CASE WHEN m.kind = 'reply' THEN 1 ELSE 0 END),
           SUM(CASE WHEN m.kind = 'note' THEN 1 ELSE 0 END)
    FROM messages m JOIN conversations c ON c.id = m.conversation_id
    WHERE m.kind IN ('reply', 'note') AND m.author_user_id IS NOT NULL GROUP BY 1, 2, 3;

-- What the collaborators' table reads: a person's notes in a range.
CREATE INDEX messages_author ON messages (author_user_id, kind, created_at, conversation_id);
CREATE INDEX notifications_report ON notifications (kind, created_at, actor_id, conversation_id);
