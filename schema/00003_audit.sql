-- +goose Up
-- Tamper-evident, append-only audit log (see internal/audit for the hash chain).
--
-- Every row stores hash = sha256(prev_hash || canonical(row)) and the hash of the row before it
-- (prev_hash; 32 zero bytes for the first row). Rows are appended by audit.Record under
-- pg_advisory_xact_lock, which takes the id from the sequence AFTER the lock, so id order is
-- chain order. Keep the sequence at CACHE 1 (the bigserial default): with a per-session cache,
-- ids would no longer follow lock order and the chain would fail verification.
--
-- actor_id deliberately has no foreign key to users: audit rows must outlive the accounts they
-- name (actor_email/actor_role keep who it was at the time).
CREATE TABLE audit_log (
    id            bigserial PRIMARY KEY,
    occurred_at   timestamptz NOT NULL,
    actor_id      uuid NULL,
    actor_email   text NOT NULL DEFAULT '',
    actor_role    text NOT NULL DEFAULT '',
    action        text NOT NULL CHECK (action <> ''),
    resource_type text NOT NULL DEFAULT '',
    resource_id   text NOT NULL DEFAULT '',
    success       boolean NOT NULL,
    request_id    text NOT NULL DEFAULT '',
    ip            text NOT NULL DEFAULT '',
    user_agent    text NOT NULL DEFAULT '',
    details       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object'),
    prev_hash     bytea NOT NULL CHECK (octet_length(prev_hash) = 32),
    hash          bytea NOT NULL CHECK (octet_length(hash) = 32)
);

-- List filters; the trailing id serves the newest-first keyset pagination (ORDER BY id DESC).
CREATE INDEX audit_log_actor_id_idx ON audit_log (actor_id, id) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_resource_idx ON audit_log (resource_type, resource_id, id);
CREATE INDEX audit_log_occurred_at_idx ON audit_log (occurred_at);

-- Append-only at the database level: UPDATE, DELETE and TRUNCATE raise.
--
-- This stops the application and ordinary roles, not an operator with enough rights: the
-- table owner or a superuser can still `ALTER TABLE audit_log DISABLE TRIGGER
-- audit_log_append_only`, drop the trigger, or rewrite the table. (The triggers are ENABLE
-- ALWAYS, so `SET session_replication_role = replica` alone does not bypass them.) Such
-- tampering is what the hash chain detects: audit.Verify reports the first row whose content
-- no longer matches its hash or whose prev_hash no longer matches the row before. A consistent
-- rewrite of the whole tail, or removal of the newest rows, needs an external anchor to detect:
-- record Verify's head (id and hash) outside the database from time to time.
-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING HINT = 'audit rows are immutable; record a new entry instead';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate;

-- +goose Down
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
