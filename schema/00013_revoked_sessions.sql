-- +goose Up
-- Revoked sessions (refresh-token families) whose access tokens must stay refused: the
-- durable truth behind Redis' revocation keys, which are rebuilt from here when Redis
-- comes back empty (issue 21 #20). Rows are pruned once no token of the session can be
-- valid any more.
CREATE TABLE revoked_sessions (
    family_id  uuid PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX revoked_sessions_expires_at_idx ON revoked_sessions (expires_at);

-- +goose Down
DROP TABLE revoked_sessions;
