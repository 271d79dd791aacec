-- +goose Up
-- The normalized entities each chunk mentions (internal/ner at indexing time): the list that
-- citations carry, and their ids for the /api/kb/search entity filter (GIN-indexed).
-- entities IS NULL marks a chunk indexed before entity extraction; the kb_entities job fills it.
ALTER TABLE kb_chunks ADD COLUMN entities jsonb;
ALTER TABLE kb_chunks ADD COLUMN entity_ids text[] NOT NULL DEFAULT '{}';
CREATE INDEX kb_chunks_entity_ids_idx ON kb_chunks USING gin (entity_ids);
CREATE INDEX kb_chunks_entities_pending_idx ON kb_chunks (document_id) WHERE entities IS NULL;

-- +goose Down
DROP INDEX kb_chunks_entities_pending_idx;
DROP INDEX kb_chunks_entity_ids_idx;
ALTER TABLE kb_chunks DROP COLUMN entity_ids;
ALTER TABLE kb_chunks DROP COLUMN entities;
