DROP INDEX messages_first_reply;
DROP INDEX messages_created;
DROP INDEX conversations_closed;
DROP INDEX conversations_created;
