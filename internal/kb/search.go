package kb

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/search"
	"github.com/voiceassist/gateway/internal/telemetry"
)

// Search modes.
const (
	ModeKeyword = "keyword"
	ModeVector  = "vector"
	ModeHybrid  = "hybrid"
)

// candidates is how deep each retriever looks before fusion: fusion needs more than top_k to
// reward chunks that both retrievers rank well.
const candidates = 100

// Query is one search.
type Query struct {
	Text       string
	TopK       int
	Mode       string // ModeHybrid when empty
	Fusion     string // the configured fusion when empty
	DocumentID *uuid.UUID
	Tags       []string
	// EntityID keeps chunks mentioning this normalized entity id ("" = any).
	EntityID string
	// Weights, if set, replace the configured keyword and vector fusion weights (hybrid).
	Weights *[2]float64
}

// Score is a chunk's place in one retriever's list.
type Score struct {
	Rank  int
	Score float64
}

// Hit is one retrieved chunk with its citation.
type Hit struct {
	Rank     int
	Score    float64
	ChunkID  uuid.UUID
	Text     string
	Keyword  *Score
	Vector   *Score
	Citation Citation
	Entities []Entity // the chunk's normalized entities (none when not extracted)
}

// Citation locates a chunk in its document.
type Citation struct {
	DocumentID uuid.UUID
	Title      string
	Heading    []string
	Page       int
	SourceURL  string
	Filename   string
	ChunkIndex int
}

// Result is a search's answer.
type Result struct {
	Query  string
	Mode   string
	Fusion string
	Model  string
	Took   time.Duration
	Hits   []Hit
}

// Search runs a query in the given mode. It first applies index changes this process has
// not seen, so it reads every committed write; hits are hydrated from Postgres, so only
// chunks that still exist are returned.
func (s *Service) Search(ctx context.Context, q Query) (Result, error) {
	start := time.Now()
	if q.Mode == "" {
		q.Mode = ModeHybrid
	}
	if q.Fusion == "" {
		q.Fusion = s.cfg.Fusion
	}
	if q.TopK <= 0 {
		q.TopK = 10
	}
	res := Result{Query: q.Text, Mode: q.Mode, Model: s.emb.Model()}
	if q.Mode == ModeHybrid {
		res.Fusion = q.Fusion
	}
	if err := s.WaitFilled(ctx); err != nil {
		return Result{}, err
	}
	if err := s.CatchUp(ctx); err != nil {
		// apply writes the keyword index before the vector store, so when only the (remote)
		// vector store fails, keyword search is still current; the other modes need vectors.
		if q.Mode != ModeKeyword {
			return res, apierr.Unavailable("The search indexes cannot be brought up to date right now (keyword mode may still work); try again shortly", err)
		}
		s.log.WarnContext(ctx, "kb: keyword search while the vector store lags", "error", err)
	}
	filter := map[string]string{}
	if q.DocumentID != nil {
		filter["doc"] = q.DocumentID.String()
	}
	for _, t := range q.Tags {
		filter["tag."+t] = "1"
	}
	if q.EntityID != "" {
		filter[entityField+q.EntityID] = "1"
	}
	depth := q.TopK + q.TopK/2 + 5 // spare for chunks deleted since they were indexed
	if q.Mode == ModeHybrid {
		depth = max(candidates, depth)
	}
	var kw, vec []search.Hit
	var err error
	if q.Mode != ModeVector {
		t := time.Now()
		if kw, err = s.index.Search(q.Text, depth, filter); err != nil {
			return res, err
		}
		s.metrics.Stage(telemetry.StageKeyword, t)
	}
	if q.Mode != ModeKeyword {
		if vec, err = s.vectorSearch(ctx, q.Text, depth, filter); err != nil {
			return res, err
		}
	}
	var fused []search.Fused
	switch q.Mode {
	case ModeKeyword:
		fused = search.FuseRRF(s.cfg.RRFK, kw)
	case ModeVector:
		fused = search.FuseRRF(s.cfg.RRFK, nil, vec)
	default:
		w := []float64{s.cfg.KeywordWeight, s.cfg.VectorWeight}
		if q.Weights != nil {
			w = q.Weights[:]
		}
		if q.Fusion == FusionWeighted {
			fused = search.FuseWeighted(w, kw, vec)
		} else {
			fused = search.FuseRRFWeighted(s.cfg.RRFK, w, kw, vec)
		}
	}
	t := time.Now()
	hits, err := s.hydrate(ctx, fused, q)
	if err != nil {
		return res, err
	}
	s.metrics.Stage(telemetry.StageHydrate, t)
	res.Hits = hits
	res.Took = time.Since(start)
	return res, nil
}

func (s *Service) vectorSearch(ctx context.Context, text string, k int, filter map[string]string) ([]search.Hit, error) {
	t := time.Now()
	vs, err := s.qemb.Embed(ctx, []string{text})
	if err != nil {
		return nil, apierr.Unavailable("The embedding service is unavailable; keyword mode still works", err)
	}
	s.metrics.Stage(telemetry.StageEmbedding, t)
	t = time.Now()
	hs, err := s.vec.Search(ctx, vs[0], k, filter)
	if err != nil {
		return nil, apierr.Unavailable("The vector store is unavailable", err)
	}
	s.metrics.Stage(telemetry.StageVector, t)
	out := make([]search.Hit, len(hs))
	for i, h := range hs {
		out[i] = search.Hit{ID: h.ID, Score: float64(h.Score)}
	}
	return out, nil
}

// hydrate loads the fused chunks from Postgres (dropping any deleted since indexing) and keeps
// the best TopK.
func (s *Service) hydrate(ctx context.Context, fused []search.Fused, q Query) ([]Hit, error) {
	ids := make([]uuid.UUID, 0, len(fused))
	for _, f := range fused {
		if id, err := uuid.Parse(f.ID); err == nil {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return []Hit{}, nil
	}
	rows, err := s.q.GetKbHits(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("kb: hydrate: %w", err)
	}
	byID := make(map[string]int, len(rows))
	for i, r := range rows {
		byID[r.ID.String()] = i
	}
	out := make([]Hit, 0, q.TopK)
	for _, f := range fused {
		i, ok := byID[f.ID]
		if !ok {
			continue
		}
		r := rows[i]
		h := Hit{Rank: len(out) + 1, Score: f.Score, ChunkID: r.ID, Text: r.Text,
			Citation: Citation{DocumentID: r.DocumentID, Title: r.Title, Heading: r.Heading, Page: int(deref(r.Page)),
				SourceURL: deref(r.SourceUrl), Filename: deref(r.Filename), ChunkIndex: int(r.Ord)},
			Entities: decodeEntities(r.Entities)}
		lists := []**Score{&h.Keyword, &h.Vector}
		if q.Mode == ModeVector {
			lists = []**Score{nil, &h.Vector}
		}
		for li, rank := range f.Ranks {
			if rank > 0 && li < len(lists) && lists[li] != nil {
				*lists[li] = &Score{Rank: rank, Score: f.Scores[li]}
			}
		}
		if q.Mode != ModeHybrid {
			// The single retriever's own score, not the RRF formality.
			for li, rank := range f.Ranks {
				if rank > 0 {
					h.Score = f.Scores[li]
				}
			}
		}
		out = append(out, h)
		if len(out) == q.TopK {
			break
		}
	}
	return out, nil
}

// FusionSettings are the hybrid fusion a Service uses after resolving "auto".
type FusionSettings struct {
	Name            string
	K               int
	Keyword, Vector float64
}

// Fusion reports the effective fusion settings.
func (s *Service) Fusion() FusionSettings {
	return FusionSettings{Name: s.cfg.Fusion, K: s.cfg.RRFK, Keyword: s.cfg.KeywordWeight, Vector: s.cfg.VectorWeight}
}

// deref is the value of an optional column, or its zero value when NULL.
func deref[T any](p *T) T {
	var v T
	if p != nil {
		v = *p
	}
	return v
}
