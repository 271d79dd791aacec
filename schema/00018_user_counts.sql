-- +goose Up
-- Accounts by role and state, kept exact by statement-level triggers on users so the admin
-- summary reads 8 rows instead of scanning every account (47-196 ms for 100,000 users on the
-- loaded bench machine, docs/benchmarks.md). Each trigger folds its statement's transition
-- table into one upsert in (role, is_active) order, so concurrent writers lock the counter
-- rows in the same order (no deadlock); statements that change neither column touch nothing.
CREATE TABLE user_counts (
    role      text    NOT NULL,
    is_active boolean NOT NULL,
    n         bigint  NOT NULL, -- no CHECK (n >= 0): it would refuse the negative deltas below before ON CONFLICT
    PRIMARY KEY (role, is_active)
);

-- +goose StatementBegin
CREATE FUNCTION user_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO user_counts (role, is_active, n)
        SELECT role, is_active, count(*) FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (role, is_active) DO UPDATE SET n = user_counts.n + EXCLUDED.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO user_counts (role, is_active, n)
        SELECT role, is_active, -count(*) FROM old_rows GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (role, is_active) DO UPDATE SET n = user_counts.n + EXCLUDED.n;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO user_counts (role, is_active, n)
        SELECT role, is_active, sum(d) FROM (
            SELECT role, is_active, 1 AS d FROM new_rows
            UNION ALL
            SELECT role, is_active, -1 FROM old_rows
        ) AS delta
        GROUP BY 1, 2 HAVING sum(d) <> 0 ORDER BY 1, 2
        ON CONFLICT (role, is_active) DO UPDATE SET n = user_counts.n + EXCLUDED.n;
    ELSIF TG_OP = 'TRUNCATE' THEN
        DELETE FROM user_counts;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER user_counts_insert AFTER INSERT ON users
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_counts_apply();
CREATE TRIGGER user_counts_update AFTER UPDATE ON users
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_counts_apply();
CREATE TRIGGER user_counts_delete AFTER DELETE ON users
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION user_counts_apply();
CREATE TRIGGER user_counts_truncate AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION user_counts_apply();

-- The triggers' lock on users is held until this migration commits, so the back-fill is exact.
INSERT INTO user_counts (role, is_active, n)
SELECT role, is_active, count(*) FROM users GROUP BY 1, 2;

-- +goose Down
DROP TRIGGER user_counts_truncate ON users;
DROP TRIGGER user_counts_delete ON users;
DROP TRIGGER user_counts_update ON users;
DROP TRIGGER user_counts_insert ON users;
DROP FUNCTION user_counts_apply();
DROP TABLE user_counts;
