DROP TABLE provisioning_mapping_teams;
DROP TABLE provisioning_mappings;
