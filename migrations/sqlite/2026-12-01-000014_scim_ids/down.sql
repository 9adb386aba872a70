DROP INDEX users_scim_user_name;
ALTER TABLE users DROP COLUMN scim_user_name;
ALTER TABLE teams DROP COLUMN external_id;
