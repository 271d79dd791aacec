-- +goose Up
-- When each user's auth epoch last changed. Access tokens are checked without reading
-- PostgreSQL (issue 17): Redis holds the current epoch of every user whose epoch changed
-- within an access token's lifetime, and is rebuilt from this column when it comes back
-- empty. The trigger stamps every bump, whatever statement makes it.
ALTER TABLE users ADD COLUMN auth_epoch_at timestamptz;
CREATE INDEX users_auth_epoch_at_idx ON users (auth_epoch_at) WHERE auth_epoch_at IS NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION users_stamp_auth_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.auth_epoch IS DISTINCT FROM OLD.auth_epoch THEN
        NEW.auth_epoch_at := now();
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER users_stamp_auth_epoch BEFORE UPDATE OF auth_epoch ON users
    FOR EACH ROW EXECUTE FUNCTION users_stamp_auth_epoch();

-- +goose Down
DROP TRIGGER users_stamp_auth_epoch ON users;
DROP FUNCTION users_stamp_auth_epoch();
DROP INDEX users_auth_epoch_at_idx;
ALTER TABLE users DROP COLUMN auth_epoch_at;
