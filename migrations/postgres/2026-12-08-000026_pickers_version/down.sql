DROP TRIGGER users_pickers ON users;
DROP TRIGGER teams_pickers ON teams;
DROP FUNCTION pickers_bump();
ALTER TABLE org_settings DROP COLUMN pickers_version;
