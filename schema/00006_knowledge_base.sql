-- +goose Up
-- Knowledge-base documents. The raw content is kept so that a reindex can re-extract with a
-- newer extractor or chunker; chunks and their embeddings are the source of truth every
-- search index (Bleve, in-process vectors, Qdrant) is rebuilt from.
CREATE TABLE kb_documents (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title               text NOT NULL,
    filename            text,
    format              text NOT NULL CHECK (format IN ('txt', 'md', 'html', 'pdf', 'json')),
    content_type        text,
    source_url          text,
    tags                text[] NOT NULL DEFAULT '{}',
    metadata            jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    content_hash        text NOT NULL UNIQUE,
    size_bytes          bigint NOT NULL,
    status              text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'indexed', 'failed')),
    error               text,
    -- generation counts index requests: a job for an older generation has been superseded.
    generation          integer NOT NULL DEFAULT 1,
    attempts            integer NOT NULL DEFAULT 0,
    chunk_count         integer NOT NULL DEFAULT 0,
    pages               integer,
    embedding_model     text,
    progress_done       integer NOT NULL DEFAULT 0,
    progress_total      integer NOT NULL DEFAULT 0,
    created_by          uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    indexing_started_at timestamptz,
    indexed_at          timestamptz,
    index_duration_ms   bigint
);
CREATE INDEX kb_documents_created ON kb_documents (created_at DESC, id DESC);
CREATE INDEX kb_documents_status ON kb_documents (status);

-- The uploaded bytes, apart so that listing documents never reads them.
CREATE TABLE kb_contents (
    document_id uuid PRIMARY KEY REFERENCES kb_documents (id) ON DELETE CASCADE,
    content     bytea NOT NULL
);

-- Chunks of a document replace the previous set in one transaction, so a search never sees a
-- half-indexed document.
CREATE TABLE kb_chunks (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    document_id     uuid NOT NULL REFERENCES kb_documents (id) ON DELETE CASCADE,
    ord             integer NOT NULL,
    text            text NOT NULL,
    heading         text[] NOT NULL DEFAULT '{}',
    page            integer,
    tokens          integer NOT NULL,
    embedding       real[] NOT NULL,
    embedding_model text NOT NULL,
    UNIQUE (document_id, ord)
);

-- Every change of a document's chunk set, in commit order: each replica applies them to its
-- local indexes (Bleve on disk, in-process vectors) and remembers the last one it applied;
-- a search first applies what it has not seen yet, so it reads its writes on any replica.
CREATE TABLE kb_events (
    id          bigserial PRIMARY KEY,
    document_id uuid NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('upsert', 'delete')),
    -- chunks this change removed, so replicas can drop them from their indexes
    removed     uuid[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE kb_events;
DROP TABLE kb_chunks;
DROP TABLE kb_contents;
DROP TABLE kb_documents;
