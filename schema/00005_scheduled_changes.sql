-- +goose Up
CREATE TABLE scheduled_changes (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    flag_key          text NOT NULL,  -- no foreign key: a deleted flag makes the change fail, with the reason kept
    scheduled_at      timestamptz NOT NULL,
    timezone_id       text NOT NULL DEFAULT 'UTC',
    changes           jsonb NOT NULL CHECK (jsonb_typeof(changes) = 'object'),
    description       text NOT NULL DEFAULT '',
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'applied', 'cancelled', 'failed')),
    created_by        uuid,
    created_by_email  text NOT NULL DEFAULT '',
    modified_by       uuid,
    modified_by_email text NOT NULL DEFAULT '',
    cancelled_by      uuid,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    cancelled_at      timestamptz,
    applied_at        timestamptz,
    applied_version   bigint,
    lateness_ms       bigint,
    failure_reason    text NOT NULL DEFAULT ''
);
-- Two pending changes of one flag at the same instant would race: refuse the second.
CREATE UNIQUE INDEX scheduled_changes_pending_instant ON scheduled_changes (flag_key, scheduled_at) WHERE status = 'pending';
CREATE INDEX scheduled_changes_due ON scheduled_changes (scheduled_at) WHERE status = 'pending';
CREATE INDEX scheduled_changes_flag ON scheduled_changes (flag_key, scheduled_at);

-- +goose StatementBegin
CREATE FUNCTION scheduled_changes_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('scheduled_changes', NEW.id::text);
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER scheduled_changes_notify AFTER INSERT OR UPDATE ON scheduled_changes
    FOR EACH ROW EXECUTE FUNCTION scheduled_changes_notify();

-- A forced reload of a flag on every replica is an event too (and tells stream clients to refetch).
ALTER TABLE flag_events DROP CONSTRAINT flag_events_kind_check;
ALTER TABLE flag_events ADD CONSTRAINT flag_events_kind_check
    CHECK (kind IN ('created', 'updated', 'deleted', 'override_set', 'override_deleted', 'invalidated'));

-- +goose Down
ALTER TABLE flag_events DROP CONSTRAINT flag_events_kind_check;
ALTER TABLE flag_events ADD CONSTRAINT flag_events_kind_check
    CHECK (kind IN ('created', 'updated', 'deleted', 'override_set', 'override_deleted'));
DROP TABLE scheduled_changes;
DROP FUNCTION scheduled_changes_notify();
