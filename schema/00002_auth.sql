-- +goose Up
CREATE TABLE users (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email           text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    full_name       text NOT NULL DEFAULT '',
    password_hash   text NOT NULL,
    role            text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'viewer', 'admin', 'superadmin')),
    is_active       boolean NOT NULL DEFAULT true,
    -- Bumped on password change, role change and deactivation; tokens carry the epoch they
    -- were issued under, so every earlier token stops working at once.
    auth_epoch      integer NOT NULL DEFAULT 0,
    last_login_at   timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_created_idx ON users (created_at DESC, id DESC);

-- One row per refresh token issued. Tokens of one login form a family; presenting a token
-- that was already rotated revokes the family (RFC 6819 §5.2.2.3, OAuth 2.1 refresh rotation).
CREATE TABLE refresh_tokens (
    jti         uuid PRIMARY KEY,
    family_id   uuid NOT NULL,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id) WHERE revoked_at IS NULL;
CREATE INDEX refresh_tokens_expiry_idx ON refresh_tokens (expires_at);

-- Service API keys: "va_k_<prefix>_<secret>"; the prefix finds the row, the SHA-256 of the
-- whole key proves it (keys carry 256 random bits, so a slow hash adds nothing).
CREATE TABLE api_keys (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    prefix        text NOT NULL UNIQUE,
    secret_hash   bytea NOT NULL,
    role          text NOT NULL CHECK (role IN ('user', 'viewer', 'admin', 'superadmin')),
    expires_at    timestamptz,
    last_used_at  timestamptz,
    last_used_ip  text NOT NULL DEFAULT '',
    revoked_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id, created_at DESC);

-- +goose Down
DROP TABLE api_keys;
DROP TABLE refresh_tokens;
DROP TABLE users;
