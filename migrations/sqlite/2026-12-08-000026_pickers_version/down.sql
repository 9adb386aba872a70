DROP TRIGGER users_pickers_delete;
DROP TRIGGER users_pickers_update;
DROP TRIGGER users_pickers_insert;
DROP TRIGGER teams_pickers_delete;
DROP TRIGGER teams_pickers_update;
DROP TRIGGER teams_pickers_insert;
ALTER TABLE org_settings DROP COLUMN pickers_version;
