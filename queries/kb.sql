-- name: InsertKbDocument :one
INSERT INTO kb_documents (title, filename, format, content_type, source_url, tags, metadata, content_hash, size_bytes, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (content_hash) DO NOTHING
RETURNING *;

-- name: InsertKbContent :exec
INSERT INTO kb_contents (document_id, content) VALUES ($1, $2);

-- name: GetKbContent :one
SELECT content FROM kb_contents WHERE document_id = $1;

-- name: GetKbDocument :one
SELECT * FROM kb_documents WHERE id = $1;

-- name: GetKbDocumentByHash :one
SELECT * FROM kb_documents WHERE content_hash = $1;

-- name: LockKbDocument :one
SELECT * FROM kb_documents WHERE id = $1 FOR UPDATE;

-- name: ListKbDocuments :many
SELECT * FROM kb_documents
WHERE (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(format)::text IS NULL OR format = sqlc.narg(format))
  AND (sqlc.narg(tag)::text IS NULL OR sqlc.narg(tag)::text = ANY (tags))
  AND (sqlc.narg(q)::text IS NULL OR title ILIKE '%' || sqlc.narg(q) || '%' OR filename ILIKE '%' || sqlc.narg(q) || '%')
  AND (sqlc.narg(before_at)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(before_at)::timestamptz, sqlc.narg(before_id)::uuid))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(lim);

-- name: ListKbDocumentIDs :many
SELECT id FROM kb_documents ORDER BY created_at, id;

-- name: ListKbDocumentsByIDs :many
SELECT * FROM kb_documents WHERE id = ANY (sqlc.arg(ids)::uuid[]);

-- name: ListKbDocumentsWithStaleModel :many
-- Documents whose chunks were embedded by another model than the current one.
SELECT DISTINCT d.id FROM kb_documents d JOIN kb_chunks c ON c.document_id = d.id
WHERE c.embedding_model <> $1;

-- name: DeleteKbDocument :execrows
DELETE FROM kb_documents WHERE id = $1;

-- name: BumpKbGeneration :one
UPDATE kb_documents SET generation = generation + 1, attempts = 0, status = 'pending', error = NULL,
    progress_done = 0, progress_total = 0, updated_at = now()
WHERE id = $1
RETURNING *;

-- name: StartKbIndexing :one
UPDATE kb_documents SET status = 'processing', attempts = attempts + 1, indexing_started_at = now(),
    error = NULL, progress_done = 0, progress_total = 0, updated_at = now()
WHERE id = $1 AND generation = $2
RETURNING *;

-- name: SetKbProgress :exec
UPDATE kb_documents SET progress_done = $3, progress_total = $4
WHERE id = $1 AND generation = $2;

-- name: FinishKbIndexing :one
UPDATE kb_documents SET status = 'indexed', error = NULL, chunk_count = $3, pages = $4, embedding_model = $5,
    title = $6, indexed_at = now(), index_duration_ms = $7, progress_done = $8, progress_total = $8, updated_at = now()
WHERE id = $1 AND generation = $2
RETURNING *;

-- name: FailKbIndexing :exec
-- status stays 'processing' while a retry is due (final = false) and becomes 'failed' when
-- the job gives up.
UPDATE kb_documents SET status = CASE WHEN sqlc.arg(final)::bool THEN 'failed' ELSE 'pending' END,
    error = $3, updated_at = now()
WHERE id = $1 AND generation = $2;

-- name: DeleteKbChunks :many
DELETE FROM kb_chunks WHERE document_id = $1 RETURNING id;

-- name: InsertKbChunks :copyfrom
INSERT INTO kb_chunks (id, document_id, ord, text, heading, page, tokens, embedding, embedding_model, entities, entity_ids)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11);

-- name: ListKbChunksOfDocuments :many
SELECT * FROM kb_chunks WHERE document_id = ANY (sqlc.arg(ids)::uuid[]) ORDER BY document_id, ord;

-- name: ListKbChunksPage :many
-- Every chunk in id order, a page at a time (index rebuilds).
SELECT * FROM kb_chunks WHERE id > $1 ORDER BY id LIMIT $2;

-- name: GetKbHits :many
-- Hydrates search hits: chunks with their document, only while the document still exists.
SELECT c.id, c.document_id, c.ord, c.text, c.heading, c.page, c.entities,
       d.title, d.source_url, d.filename, d.tags
FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id
WHERE c.id = ANY (sqlc.arg(ids)::uuid[]);

-- name: CountKbChunks :one
SELECT count(*) FROM kb_chunks;

-- name: InsertKbEvent :exec
INSERT INTO kb_events (document_id, kind, removed) VALUES ($1, $2, $3);

-- name: LastKbEvent :one
SELECT coalesce(max(id), 0)::bigint FROM kb_events;

-- name: ListKbEventsAfter :many
SELECT * FROM kb_events WHERE id > $1 ORDER BY id LIMIT $2;

-- name: LockKbEvents :exec
-- Serialises kb_events appends until commit, so event ids follow commit order.
SELECT pg_advisory_xact_lock(7300001);

-- name: CountKbByStatus :many
-- Documents and their chunks by indexing status, for the metrics gauges (one scan of the
-- small documents table; chunk_count is kept by indexing).
SELECT status, count(*)::bigint AS documents, coalesce(sum(chunk_count), 0)::bigint AS chunks
FROM kb_documents
GROUP BY status;

-- name: ListKbDocumentsMissingEntities :many
-- Documents with chunks indexed before entity extraction (the kb_entities job fills them).
SELECT DISTINCT document_id FROM kb_chunks WHERE entities IS NULL;

-- name: ListKbChunksMissingEntities :many
SELECT id, text FROM kb_chunks WHERE document_id = $1 AND entities IS NULL ORDER BY ord;

-- name: SetKbChunkEntities :execrows
UPDATE kb_chunks SET entities = $2, entity_ids = $3 WHERE id = $1 AND entities IS NULL;
