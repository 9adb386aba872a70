DROP INDEX conversations_open_team;
DROP INDEX conversations_open_assignee;
DROP INDEX conversations_open_activity;
DROP TRIGGER conversations_count_delete ON conversations;
DROP TRIGGER conversations_count_update ON conversations;
DROP TRIGGER conversations_count_insert ON conversations;
DROP FUNCTION conversation_counts_apply();
DROP TABLE conversation_counts;
