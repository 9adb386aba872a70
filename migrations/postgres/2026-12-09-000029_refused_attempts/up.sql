-- Every refused attempt by a collaborator to reach a customer or change a
-- conversation, by channel (web, api, email) and action, counted per user
-- and hour: one row however many tries, so it cannot flood anything.
CREATE TABLE refused_attempts (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    action TEXT NOT NULL,
    hour TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL,
    PRIMARY KEY (user_id, channel, action, hour)
);
CREATE INDEX refused_attempts_hour ON refused_attempts (hour);
