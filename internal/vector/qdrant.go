package vector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/qdrant/go-client/qdrant"
)

// QdrantIDKey is the payload key under which Qdrant points keep the caller's
// string ID: Qdrant point IDs must be integers or UUIDs, so the point ID is a
// hash of it (see pointID) and the original has to be stored alongside.
const QdrantIDKey = "_id"

// qdrantBatch bounds the points (or IDs) sent in one request, keeping each
// gRPC message well under size limits for typical embedding dimensions.
const qdrantBatch = 256

// pointNamespace is the UUIDv5 namespace of point IDs. Never change it: every
// stored point would become unreachable by its ID.
var pointNamespace = uuid.MustParse("6f1c4a52-3d0e-4f7b-9a51-2b8e7c0d9e13")

// QdrantConfig configures NewQdrant.
type QdrantConfig struct {
	Host       string // default "localhost"
	Port       int    // gRPC port, default 6334
	APIKey     string
	UseTLS     bool
	Collection string // required
	Dim        int    // vector dimension, required
}

func (c QdrantConfig) withDefaults() QdrantConfig {
	if c.Host == "" {
		c.Host = "localhost"
	}
	if c.Port == 0 {
		c.Port = 6334
	}
	return c
}

// Qdrant is a Store backed by a Qdrant collection over gRPC, using cosine
// distance. It is safe for concurrent use.
type Qdrant struct {
	client *qdrant.Client
	coll   string
	dim    int
	addr   string // for error messages
}

var _ Store = (*Qdrant)(nil)

// NewQdrant connects to Qdrant and makes sure the collection exists with
// cosine distance and dimension cfg.Dim, creating it if missing. It fails if
// the server cannot be reached before ctx ends, or if the collection exists
// with another dimension or distance.
func NewQdrant(ctx context.Context, cfg QdrantConfig) (*Qdrant, error) {
	cfg = cfg.withDefaults()
	if cfg.Collection == "" {
		return nil, errors.New("vector: qdrant: collection name required")
	}
	if cfg.Dim <= 0 {
		return nil, errors.New("vector: qdrant: dimension must be positive")
	}
	client, err := qdrant.NewClient(&qdrant.Config{
		Host:   cfg.Host,
		Port:   cfg.Port,
		APIKey: cfg.APIKey,
		UseTLS: cfg.UseTLS,
		// The client's version check is a blocking call that ignores ctx
		// (up to a minute against a dead host), so skip it; ensure below
		// makes the first real call under ctx.
		SkipCompatibilityCheck: true,
	})
	if err != nil {
		return nil, fmt.Errorf("vector: qdrant %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	s := &Qdrant{client: client, coll: cfg.Collection, dim: cfg.Dim, addr: fmt.Sprintf("%s:%d", cfg.Host, cfg.Port)}
	if err := s.ensure(ctx); err != nil {
		client.Close()
		return nil, err
	}
	return s, nil
}

// ensure creates the collection or checks that the existing one fits.
func (s *Qdrant) ensure(ctx context.Context) error {
	exists, err := s.client.CollectionExists(ctx, s.coll)
	if err != nil {
		return s.wrap(ctx, "check collection", err)
	}
	if !exists {
		err := s.client.CreateCollection(ctx, &qdrant.CreateCollection{
			CollectionName: s.coll,
			VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{
				Size:     uint64(s.dim),
				Distance: qdrant.Distance_Cosine,
			}),
		})
		if err == nil {
			return nil
		}
		// Another instance may have created it meanwhile: then check it.
		if exists, _ = s.client.CollectionExists(ctx, s.coll); !exists {
			return s.wrap(ctx, "create collection", err)
		}
	}
	info, err := s.client.GetCollectionInfo(ctx, s.coll)
	if err != nil {
		return s.wrap(ctx, "get collection", err)
	}
	p := info.GetConfig().GetParams().GetVectorsConfig().GetParams()
	switch {
	case p == nil:
		return fmt.Errorf("vector: qdrant collection %q has named vectors, want a single unnamed vector", s.coll)
	case p.GetSize() != uint64(s.dim):
		return fmt.Errorf("%w: qdrant collection %q has dimension %d, configured %d (drop the collection or fix the configuration)", ErrDim, s.coll, p.GetSize(), s.dim)
	case p.GetDistance() != qdrant.Distance_Cosine:
		return fmt.Errorf("vector: qdrant collection %q uses %s distance, want Cosine", s.coll, p.GetDistance())
	}
	return nil
}

// Dim is the vector dimension.
func (s *Qdrant) Dim() int { return s.dim }

// Close closes the connections.
func (s *Qdrant) Close() error { return s.client.Close() }

// Ping checks that the server answers and the collection is there, so it
// also catches a wrong API key and a collection dropped from outside.
func (s *Qdrant) Ping(ctx context.Context) error {
	exists, err := s.client.CollectionExists(ctx, s.coll)
	if err != nil {
		return s.wrap(ctx, "ping", err)
	}
	if !exists {
		return fmt.Errorf("vector: qdrant %s: collection %q does not exist", s.addr, s.coll)
	}
	return nil
}

// Upsert implements Store. All items are checked before anything is sent,
// but the batches are separate requests: if one fails, earlier ones stay.
func (s *Qdrant) Upsert(ctx context.Context, items []Item) error {
	for _, it := range items {
		if err := checkItem(it, s.dim); err != nil {
			return err
		}
		if _, ok := it.Payload[QdrantIDKey]; ok {
			return fmt.Errorf("vector: item %s: payload key %q is reserved", it.ID, QdrantIDKey)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for batch := range slices.Chunk(items, qdrantBatch) {
		points := make([]*qdrant.PointStruct, len(batch))
		for i, it := range batch {
			points[i] = toPoint(it)
		}
		_, err := s.client.Upsert(ctx, &qdrant.UpsertPoints{
			CollectionName: s.coll,
			Wait:           qdrant.PtrOf(true), // a following Search must see them
			Points:         points,
		})
		if err != nil {
			return s.wrap(ctx, "upsert", err)
		}
	}
	return nil
}

// Delete implements Store.
func (s *Qdrant) Delete(ctx context.Context, ids ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for batch := range slices.Chunk(ids, qdrantBatch) {
		pids := make([]*qdrant.PointId, len(batch))
		for i, id := range batch {
			pids[i] = qdrant.NewIDUUID(pointID(id))
		}
		if err := s.deletePoints(ctx, qdrant.NewPointsSelectorIDs(pids)); err != nil {
			return err
		}
	}
	return nil
}

// Reset deletes every point but keeps the collection (and its schema), so
// searches running during a rebuild see an empty store rather than an error.
func (s *Qdrant) Reset(ctx context.Context) error {
	return s.deletePoints(ctx, qdrant.NewPointsSelectorFilter(&qdrant.Filter{}))
}

func (s *Qdrant) deletePoints(ctx context.Context, sel *qdrant.PointsSelector) error {
	_, err := s.client.Delete(ctx, &qdrant.DeletePoints{
		CollectionName: s.coll,
		Wait:           qdrant.PtrOf(true),
		Points:         sel,
	})
	if err != nil {
		return s.wrap(ctx, "delete", err)
	}
	return nil
}

// Count is the exact number of stored points.
func (s *Qdrant) Count(ctx context.Context) (int, error) {
	n, err := s.client.Count(ctx, &qdrant.CountPoints{CollectionName: s.coll, Exact: qdrant.PtrOf(true)})
	if err != nil {
		return 0, s.wrap(ctx, "count", err)
	}
	return int(n), nil
}

// Search implements Store like Exact: k <= 0 means 10, a zero query returns
// nothing, and ties are ordered by ID (only among the hits returned, as
// Qdrant picks which tied points make the cut).
func (s *Qdrant) Search(ctx context.Context, q []float32, k int, filter map[string]string) ([]Hit, error) {
	k, err := searchArgs(ctx, s.dim, q, k)
	if err != nil {
		return nil, err
	}
	qn := slices.Clone(q)
	if !normalize(qn) {
		// Qdrant would score every point 0 for a zero query; Exact returns
		// nothing, and so do we.
		return nil, nil
	}
	if _, ok := filter[QdrantIDKey]; ok {
		return nil, nil // Upsert refuses this key, so no payload has it
	}
	f, err := toFilter(filter)
	if err != nil {
		return nil, err
	}
	points, err := s.client.Query(ctx, &qdrant.QueryPoints{
		CollectionName: s.coll,
		Query:          qdrant.NewQueryDense(qn),
		Filter:         f,
		Limit:          qdrant.PtrOf(uint64(k)),
		WithPayload:    qdrant.NewWithPayload(true),
	})
	if err != nil {
		return nil, s.wrap(ctx, "search", err)
	}
	hits := make([]Hit, len(points))
	for i, p := range points {
		hits[i] = toHit(p)
	}
	slices.SortStableFunc(hits, func(a, b Hit) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), strings.Compare(a.ID, b.ID))
	})
	return hits, nil
}

// wrap names the operation and server, and makes a cancelled or expired ctx
// visible to errors.Is (gRPC reports it only as a status code).
func (s *Qdrant) wrap(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("vector: qdrant %s %s: %w (%v)", s.addr, op, cerr, err)
	}
	return fmt.Errorf("vector: qdrant %s %s: %w", s.addr, op, err)
}

// pointID maps a string ID to the UUIDv5 used as Qdrant point ID.
func pointID(id string) string {
	return uuid.NewSHA1(pointNamespace, []byte(id)).String()
}

// toPoint converts an item; the vector is normalised here as in Exact, since
// Qdrant leaves vectors of squared norm below float32 epsilon unnormalised.
func toPoint(it Item) *qdrant.PointStruct {
	v := slices.Clone(it.Vector)
	normalize(v)
	payload := make(map[string]*qdrant.Value, len(it.Payload)+1)
	for k, val := range it.Payload {
		payload[k] = qdrant.NewValueString(val)
	}
	payload[QdrantIDKey] = qdrant.NewValueString(it.ID)
	return &qdrant.PointStruct{
		Id:      qdrant.NewIDUUID(pointID(it.ID)),
		Vectors: qdrant.NewVectorsDense(v),
		Payload: payload,
	}
}

// toHit converts a result, taking the ID back out of the payload.
func toHit(p *qdrant.ScoredPoint) Hit {
	h := Hit{ID: p.GetId().GetUuid(), Score: p.GetScore()} // UUID if not ours
	for k, v := range p.GetPayload() {
		s, ok := v.GetKind().(*qdrant.Value_StringValue)
		switch {
		case !ok: // not written by Upsert; Payload holds strings only
		case k == QdrantIDKey:
			h.ID = s.StringValue
		default:
			if h.Payload == nil {
				h.Payload = make(map[string]string, len(p.GetPayload()))
			}
			h.Payload[k] = s.StringValue
		}
	}
	return h
}

// toFilter turns payload equality into Qdrant keyword matches that must all
// hold.
func toFilter(filter map[string]string) (*qdrant.Filter, error) {
	if len(filter) == 0 {
		return nil, nil
	}
	f := &qdrant.Filter{Must: make([]*qdrant.Condition, 0, len(filter))}
	for k, v := range filter {
		key, err := filterKey(k)
		if err != nil {
			return nil, err
		}
		f.Must = append(f.Must, qdrant.NewMatchKeyword(key, v))
	}
	return f, nil
}

// filterKey writes a payload key as a Qdrant JSON path. Qdrant reads "a.b" as
// field b nested in a, so keys other than plain [A-Za-z0-9_-] names are
// double-quoted; a quoted key cannot hold '"' or '\' (no escapes exist).
func filterKey(k string) (string, error) {
	plain := k != ""
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			plain = false
			break
		}
	}
	if plain {
		return k, nil
	}
	if strings.ContainsAny(k, `"\`) {
		return "", fmt.Errorf("vector: qdrant cannot filter on payload key %q (contains '\"' or '\\')", k)
	}
	return `"` + k + `"`, nil
}
