-- The pickers' choices (teams; who conversations can be assigned to) stay in
-- each node's memory while this number stays the same. Every write that
-- changes what they show bumps it, in its own transaction, whatever code
-- writes; every request reads it with its context.
ALTER TABLE org_settings ADD COLUMN pickers_version BIGINT NOT NULL DEFAULT 0;
CREATE TRIGGER teams_pickers_insert AFTER INSERT ON teams
BEGIN UPDATE org_settings SET pickers_version = pickers_version + 1; END;
CREATE TRIGGER teams_pickers_update AFTER UPDATE OF name ON teams
BEGIN UPDATE org_settings SET pickers_version = pickers_version + 1; END;
CREATE TRIGGER teams_pickers_delete AFTER DELETE ON teams
BEGIN UPDATE org_settings SET pickers_version = pickers_version + 1; END;
CREATE TRIGGER users_pickers_insert AFTER INSERT ON users
BEGIN UPDATE org_settings SET pickers_version = pickers_version + 1; END;
CREATE TRIGGER users_pickers_update AFTER UPDATE OF name, active, password_hash, user_type ON users
BEGIN UPDATE org_settings SET pickers_version = pickers_version + 1; END;
CREATE TRIGGER users_pickers_delete AFTER DELETE ON users
BEGIN UPDATE org_settings SET pickers_version = pickers_version + 1; END;
