DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
ALTER TABLE users DROP COLUMN scim_external_id;
ALTER TABLE org_settings DROP COLUMN scim_token_created_at;
ALTER TABLE org_settings DROP COLUMN scim_token_hash;
DROP TABLE idempotency_keys;
DROP TABLE api_tokens;
