-- Exact view counts in constant time: how many conversations each (team,
-- assignee, done) bucket holds, kept by triggers in the same transaction as
-- every insert, move and delete, whichever code path writes. 0 stands for
-- "no team" and "unassigned". SQLite has one writer at a time, so row
-- triggers cannot deadlock here.
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

-- The views walk open conversations newest activity first. `status <> 'done'`
-- is written literally in those queries, so these partial indexes apply with
-- or without planner statistics.
CREATE INDEX conversations_open_activity ON conversations (last_activity_at, id)
    WHERE status <> 'done';
CREATE INDEX conversations_open_assignee ON conversations (assignee_id, last_activity_at, id)
    WHERE status <> 'done';
CREATE INDEX conversations_open_team ON conversations (team_id, last_activity_at, id)
    WHERE status <> 'done';

-- Customers found by any part of their name or email through a trigram
-- index (case-insensitive), instead of reading every customer: the search
-- narrows to these candidates and still applies its LIKE, so what matches
-- is unchanged. Three characters or more; shorter text reads them all.
CREATE VIRTUAL TABLE customer_fts USING fts5(
    name, email, content = 'customers', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO customer_fts (customer_fts) VALUES ('rebuild');
CREATE TRIGGER customers_fts_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customer_fts (rowid, name, email) VALUES (new.id, new.name, new.email);
END;
CREATE TRIGGER customers_fts_update AFTER UPDATE OF name, email ON customers BEGIN
    INSERT INTO customer_fts (customer_fts, rowid, name, email) VALUES ('delete', old.id, old.name, old.email);
    INSERT INTO customer_fts (rowid, name, email) VALUES (new.id, new.name, new.email);
END;
CREATE TRIGGER customers_fts_delete AFTER DELETE ON customers BEGIN
    INSERT INTO customer_fts (customer_fts, rowid, name, email) VALUES ('delete', old.id, old.name, old.email);
END;
