-- +goose Up
-- Daily business figures for the admin panel (GET /api/admin/panel/metrics). Prometheus
-- counters reset on restart; these do not. Each replica keeps per-day deltas in memory
-- (internal/counter) and adds them here every few seconds, so nothing is written per event.
CREATE TABLE daily_counters (
    day   date NOT NULL,
    name  text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]{0,63}$'),
    value bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, name)
);

-- Messages per day come from here too (a count over the messages table grows with it); the
-- days before this migration are back-filled once.
INSERT INTO daily_counters (day, name, value)
SELECT (created_at AT TIME ZONE 'UTC')::date, 'messages', count(*) FROM messages GROUP BY 1;

-- The admin socket (GET /api/admin/panel/ws) follows committed audit rows on every replica:
-- the trigger's NOTIFY is delivered at commit, so nothing is announced from a transaction that
-- rolls back. The payload is only the id; listeners read the rows after the last id they sent
-- (appends are serialised by the chain lock, so ids commit in order).
-- +goose StatementBegin
CREATE FUNCTION audit_log_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('audit_log', NEW.id::text);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_log_notify
    AFTER INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_notify();

-- The summary's conversations per day scan only the last days.
CREATE INDEX conversations_created_idx ON conversations (created_at);

-- +goose Down
DROP INDEX conversations_created_idx;
DROP TRIGGER audit_log_notify ON audit_log;
DROP FUNCTION audit_log_notify();
DROP TABLE daily_counters;
