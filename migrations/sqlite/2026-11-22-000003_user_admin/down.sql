DROP TABLE audit_log;
DROP TABLE invitations;
DROP TABLE outbox;
DROP INDEX users_last_active;
DROP INDEX users_active_name;
ALTER TABLE users DROP COLUMN window_closed_for;
ALTER TABLE users DROP COLUMN deactivated_at;
ALTER TABLE org_settings DROP COLUMN collaborator_allowance_fixed;
ALTER TABLE org_settings DROP COLUMN collaborator_allowance;
