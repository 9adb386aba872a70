DROP INDEX conversations_subject_bucketed;
DROP INDEX messages_body_bucketed;
DROP FUNCTION search_bucketed(tsvector, bigint);
