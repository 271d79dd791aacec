package vector

import (
	"context"
	"testing"

	"github.com/qdrant/go-client/qdrant"
)

// Internals for the external tests in qdrant_test.go.

var (
	PointID   = pointID
	ToPoint   = toPoint
	ToHit     = toHit
	FilterKey = filterKey
)

// Collection is the store's collection name.
func (s *Qdrant) Collection() string { return s.coll }

func (c QdrantConfig) WithDefaults() QdrantConfig { return c.withDefaults() }

// DropCollection deletes the store's collection (test cleanup).
func (s *Qdrant) DropCollection(ctx context.Context) error {
	return s.client.DeleteCollection(ctx, s.coll)
}

// ScoredPoint turns an upserted point into the search result Qdrant would
// return for it.
func ScoredPoint(p *qdrant.PointStruct, score float32) *qdrant.ScoredPoint {
	return &qdrant.ScoredPoint{Id: p.GetId(), Payload: p.GetPayload(), Score: score}
}

// NewQdrantUnchecked builds a store without contacting the server (gRPC
// dials lazily), to test what is checked locally before any request.
func NewQdrantUnchecked(t testing.TB, cfg QdrantConfig) *Qdrant {
	cfg = cfg.withDefaults()
	c, err := qdrant.NewClient(&qdrant.Config{Host: cfg.Host, Port: cfg.Port, APIKey: cfg.APIKey, UseTLS: cfg.UseTLS, SkipCompatibilityCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &Qdrant{client: c, coll: cfg.Collection, dim: cfg.Dim, addr: "test"}
}
