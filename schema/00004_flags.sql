-- +goose Up
CREATE TABLE feature_flags (
    key                 text PRIMARY KEY CHECK (key ~ '^(ui|backend|admin|integration|experiment|ops)\.[a-z][a-z0-9_]{0,99}$'),
    description         text NOT NULL DEFAULT '',
    type                text NOT NULL CHECK (type IN ('boolean', 'string', 'number', 'json', 'multivariate')),
    enabled             boolean NOT NULL DEFAULT false,
    value               jsonb,
    default_value       jsonb,
    variants            jsonb NOT NULL DEFAULT '[]',
    rules               jsonb NOT NULL DEFAULT '[]',
    rollout_percentage  double precision NOT NULL DEFAULT 100 CHECK (rollout_percentage BETWEEN 0 AND 100),
    salt                text NOT NULL DEFAULT '',
    visibility          text NOT NULL DEFAULT 'authenticated' CHECK (visibility IN ('public', 'authenticated', 'admin', 'internal')),
    owner               text NOT NULL DEFAULT '',
    tags                text[] NOT NULL DEFAULT '{}',
    archived            boolean NOT NULL DEFAULT false,
    version             bigint NOT NULL DEFAULT 1,
    created_by          uuid,
    updated_by          uuid,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE flag_overrides (
    flag_key       text NOT NULL REFERENCES feature_flags (key) ON DELETE CASCADE,
    targeting_key  text NOT NULL CHECK (length(targeting_key) BETWEEN 1 AND 256),
    value          jsonb,
    variant        text NOT NULL DEFAULT '',
    reason         text NOT NULL DEFAULT '',
    expires_at     timestamptz,
    created_by     uuid,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (flag_key, targeting_key)
);

-- The outbox of flag changes: written in the transaction of the change; its id is the global
-- flag revision and the SSE event id. Writers serialise on an advisory lock, so ids commit in
-- order and a reader tailing "id > last seen" never skips one.
CREATE TABLE flag_events (
    id          bigserial PRIMARY KEY,
    flag_key    text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('created', 'updated', 'deleted', 'override_set', 'override_deleted')),
    version     bigint NOT NULL,
    visibility  text NOT NULL,
    payload     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX flag_events_created_idx ON flag_events (created_at);

-- Replicas wake up on commit; the payload is only the id (NOTIFY payloads are small).
-- +goose StatementBegin
CREATE FUNCTION flag_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('flag_events', NEW.id::text);
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER flag_events_notify AFTER INSERT ON flag_events
    FOR EACH ROW EXECUTE FUNCTION flag_events_notify();

-- +goose Down
DROP TABLE flag_events;
DROP FUNCTION flag_events_notify();
DROP TABLE flag_overrides;
DROP TABLE feature_flags;
