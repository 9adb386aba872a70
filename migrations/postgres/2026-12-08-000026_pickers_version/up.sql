-- The pickers' choices (teams; who conversations can be assigned to) stay in
-- each node's memory while this number stays the same. Every write that
-- changes what they show bumps it, in its own transaction, whatever code
-- writes; every request reads it with its context.
ALTER TABLE org_settings ADD COLUMN pickers_version BIGINT NOT NULL DEFAULT 0;
CREATE FUNCTION pickers_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE org_settings SET pickers_version = pickers_version + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER teams_pickers AFTER INSERT OR DELETE OR UPDATE OF name ON teams
    FOR EACH STATEMENT EXECUTE FUNCTION pickers_bump();
CREATE TRIGGER users_pickers AFTER INSERT OR DELETE OR UPDATE OF name, active, password_hash, user_type ON users
    FOR EACH STATEMENT EXECUTE FUNCTION pickers_bump();
