DROP TABLE profile_notes;
DROP INDEX organizations_name;
DROP INDEX customers_name;
ALTER TABLE organizations DROP COLUMN updated_at;
ALTER TABLE customers DROP COLUMN updated_at;
ALTER TABLE org_settings DROP COLUMN mask_contacts_for_collaborators;
