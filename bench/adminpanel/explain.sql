-- The summary's heavy counts on the seeded volume (see seed.sql), as BenchmarkAdminPanelSummary
-- logs them. $1-style parameters are inlined as now()-based expressions.
-- Users by role and state: now read from user_counts (00018); the scan it replaced follows.
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT role, is_active, n FROM user_counts;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT role, is_active, count(*) FROM users GROUP BY role, is_active;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT count(*), count(*) FILTER (WHERE created_at >= now() - interval '24 hours')
FROM users WHERE created_at >= now() - interval '7 days';
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT day, value FROM daily_counters WHERE day >= current_date - 6 AND name = 'messages' ORDER BY day;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) FROM conversations
WHERE created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '6 days' GROUP BY 1 ORDER BY 1;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT status, count(*), coalesce(sum(chunk_count), 0) FROM kb_documents GROUP BY status;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT coalesce(max(id), 0) FROM audit_log;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT count(*) FROM scheduled_changes WHERE status = 'pending';
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT split_part(key, '.', 1), type, count(*) FROM feature_flags WHERE NOT archived GROUP BY 1, 2 ORDER BY 1, 2;
