package kb

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/voiceassist/gateway/gen/db"
)

// Document is a stored knowledge-base document and the state of its indexing.
type Document struct {
	ID                uuid.UUID
	Title             string
	Filename          *string
	Format            string
	ContentType       *string
	SourceUrl         *string
	Tags              []string
	Metadata          json.RawMessage // a JSON object
	ContentHash       string          // SHA-256 of the content, hex
	SizeBytes         int64
	Status            string // pending, processing, indexed, failed
	Error             *string
	Generation        int32 // bumped by every (re)indexing; older jobs finish without effect
	Attempts          int32
	ChunkCount        int32
	Pages             *int32
	EmbeddingModel    *string
	ProgressDone      int32
	ProgressTotal     int32
	CreatedBy         *uuid.UUID
	CreatedAt         time.Time
	UpdatedAt         time.Time
	IndexingStartedAt *time.Time
	IndexedAt         *time.Time
	IndexDurationMs   *int64
}

// documentOf maps a row; Document has exactly the row's fields, so the conversion stops
// compiling when the schema changes.
func documentOf(r db.KbDocument) Document { return Document(r) }
