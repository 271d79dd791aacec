-- Seeds the admin panel benchmark's volume (issue 18): 100,000 users, 10,000 conversations
-- with 1,000,000 messages over the last 30 days, 10,000 knowledge-base documents. Plain SQL
-- with generate_series, run through psql (bench/admin_panel_test.go does):
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f bench/adminpanel/seed.sql
INSERT INTO users (email, password_hash, role, is_active, created_at)
SELECT 'seed' || i || '@example.org', 'x',
       (ARRAY['user', 'user', 'user', 'viewer', 'admin'])[1 + i % 5],
       i % 10 <> 0,
       now() - (i % 60) * interval '1 day' - (i % 1440) * interval '1 minute'
FROM generate_series(1, 100000) AS i;

INSERT INTO conversations (user_id, title, created_at, updated_at)
SELECT u.id, 'seed conversation', now() - (u.n % 30) * interval '1 day', now()
FROM (SELECT id, row_number() OVER () AS n FROM users WHERE email LIKE 'seed%' LIMIT 10000) AS u;

INSERT INTO messages (conversation_id, role, content, created_at)
SELECT c.id, CASE WHEN i % 2 = 0 THEN 'user' ELSE 'assistant' END, 'seed message ' || i,
       now() - (i % 30) * interval '1 day' - (i % 86400) * interval '1 second'
FROM (SELECT id, row_number() OVER () AS n FROM conversations) AS c
CROSS JOIN generate_series(1, 100) AS i;

INSERT INTO kb_documents (title, format, content_hash, size_bytes, status, chunk_count)
SELECT 'seed document ' || i, 'txt', md5('seed' || i), 1000,
       (ARRAY['indexed', 'indexed', 'indexed', 'pending', 'failed'])[1 + i % 5], 10
FROM generate_series(1, 10000) AS i;

ANALYZE users;
ANALYZE conversations;
ANALYZE messages;
ANALYZE kb_documents;

-- The messages per day that the gateway would have counted (as migration 00014 back-fills).
INSERT INTO daily_counters (day, name, value)
SELECT (created_at AT TIME ZONE 'UTC')::date, 'messages', count(*) FROM messages GROUP BY 1
ON CONFLICT (day, name) DO UPDATE SET value = daily_counters.value + EXCLUDED.value;
