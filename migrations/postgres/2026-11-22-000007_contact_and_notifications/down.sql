ALTER TABLE org_settings DROP COLUMN intake_team_id;
ALTER TABLE users DROP COLUMN email_on_reply;
ALTER TABLE users DROP COLUMN email_on_assignment;
ALTER TABLE users DROP COLUMN email_on_mention;
DROP TABLE notifications;
DROP TABLE rate_events;
