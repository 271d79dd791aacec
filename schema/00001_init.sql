-- +goose Up
-- Key/value facts about this installation (installation id, demo seed marker, ...).
CREATE TABLE app_meta (
    key        text PRIMARY KEY CHECK (key <> ''),
    value      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE app_meta;
