package kb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/voiceassist/gateway/gen/db"
)

// Entity is a normalized concept a chunk mentions (internal/ner through Config.Entities).
type Entity struct {
	Vocabulary string `json:"vocabulary"`
	ID         string `json:"id"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	// Negated: every mention of it in the chunk is negated ("no evidence of ...").
	Negated bool `json:"negated,omitempty"`
}

// entityField prefixes the filter field of an entity id in both indexes ("ent.<id>" = "1").
const entityField = "ent."

// chunkEntities extracts a chunk's entities: one per concept, in order of first mention. It
// returns nil, nil when no extractor is configured (the columns stay NULL: not extracted).
func (s *Service) chunkEntities(text string) (json.RawMessage, []string) {
	if s.cfg.Entities == nil {
		return nil, []string{}
	}
	es := s.cfg.Entities(text)
	out := make([]Entity, 0, len(es))
	ids := make([]string, 0, len(es))
	for _, e := range es {
		if e.ID == "" {
			continue
		}
		if i := slices.Index(ids, e.ID); i >= 0 {
			out[i].Negated = out[i].Negated && e.Negated
			continue
		}
		ids = append(ids, e.ID)
		out = append(out, e)
	}
	b, _ := json.Marshal(out)
	return b, ids
}

// decodeEntities reads a chunk's stored entities (none when NULL or unreadable).
func decodeEntities(raw json.RawMessage) []Entity {
	var es []Entity
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &es)
	}
	return es
}

// entitiesArgs is the River job that extracts the entities of one document's chunks indexed
// before entity extraction existed; it changes no text or vector.
type entitiesArgs struct {
	DocumentID uuid.UUID `json:"document_id"`
}

const entitiesKind = "kb_entities"

func (entitiesArgs) Kind() string { return entitiesKind }

func (entitiesArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queue, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type entitiesWorker struct {
	river.WorkerDefaults[entitiesArgs]
	s *Service
}

func (w *entitiesWorker) Work(ctx context.Context, job *river.Job[entitiesArgs]) error {
	return w.s.fillEntities(ctx, job.Args.DocumentID)
}

// fillEntities sets the entities of the document's chunks that have none and appends an
// event in the same transaction, so every replica re-puts the chunks with their entity
// filter fields. Chunks replaced meanwhile by a reindex are simply not found.
func (s *Service) fillEntities(ctx context.Context, doc uuid.UUID) error {
	if s.cfg.Entities == nil {
		return nil
	}
	rows, err := s.q.ListKbChunksMissingEntities(ctx, doc)
	if err != nil || len(rows) == 0 {
		return err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if _, err := q.LockKbDocument(ctx, doc); err != nil {
			return err
		}
		n := int64(0)
		for _, r := range rows {
			ents, ids := s.chunkEntities(r.Text)
			k, err := q.SetKbChunkEntities(ctx, db.SetKbChunkEntitiesParams{ID: r.ID, Entities: ents, EntityIds: ids})
			if err != nil {
				return err
			}
			n += k
		}
		if n == 0 {
			return nil
		}
		return s.event(ctx, q, doc, "upsert", []uuid.UUID{})
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return fmt.Errorf("kb: entities of %s: %w", doc, err)
	}
	s.changed(ctx)
	return s.CatchUp(ctx)
}

// queueEntities queues the kb_entities job of every document with chunks lacking entities
// (after an upgrade); unique per document, so every replica may call it at start.
func (s *Service) queueEntities(ctx context.Context) (int, error) {
	if s.cfg.Entities == nil {
		return 0, nil
	}
	ids, err := s.q.ListKbDocumentsMissingEntities(ctx)
	if err != nil {
		return 0, fmt.Errorf("kb: documents without entities: %w", err)
	}
	for _, id := range ids {
		if _, err := s.river.Insert(ctx, entitiesArgs{DocumentID: id}, nil); err != nil {
			return 0, fmt.Errorf("kb: queue entities: %w", err)
		}
	}
	return len(ids), nil
}

// entityFields adds the chunk's entity filter fields to its document's.
func entityFields(doc map[string]string, ids []string) map[string]string {
	if len(ids) == 0 {
		return doc
	}
	f := make(map[string]string, len(doc)+len(ids))
	for k, v := range doc {
		f[k] = v
	}
	for _, id := range ids {
		if !strings.Contains(id, "=") { // Bleve filter keys cannot hold '='
			f[entityField+id] = "1"
		}
	}
	return f
}
