-- Search reads matches newest first, a window of positions (message ids;
-- a subject sits at its conversation's first message) at a time. A plain
-- GIN index gives a word's matches unordered, all of them: a window cost
-- what the word's every match cost, growing with the data. These indexes
-- key each lexeme by its bucket of 1,024 positions as well ('488:printer'),
-- so a window reads the entries of its own buckets only (src/search.rs).
-- No positions are kept: phrases are checked against the row itself.
CREATE FUNCTION search_bucketed(doc tsvector, pos bigint) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT array_to_tsvector(ARRAY(
        SELECT (pos >> 10)::text || ':' || lexeme
        FROM unnest(tsvector_to_array(doc)) AS lexeme))
$$;

CREATE INDEX messages_body_bucketed ON messages
    USING GIN (search_bucketed(body_tsv, id)) WITH (fastupdate = off);
CREATE INDEX conversations_subject_bucketed ON conversations
    USING GIN (search_bucketed(subject_tsv, COALESCE(first_message_id, id - 4611686018427387904)))
    WITH (fastupdate = off);
