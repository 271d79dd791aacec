package kb

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestChunkEntities(t *testing.T) {
	s := &Service{}
	raw, ids := s.chunkEntities("anything")
	require.Nil(t, raw, "no extractor: NULL, so the kb_entities job fills it later")
	require.Empty(t, ids)

	s.cfg.Entities = func(string) []Entity {
		return []Entity{
			{Vocabulary: "doid", ID: "DOID:552", Name: "pneumonia", Type: "disease", Negated: true},
			{Vocabulary: "fda", ID: "warfarin", Name: "warfarin", Type: "drug"},
			{Vocabulary: "doid", ID: "DOID:552", Name: "pneumonia", Type: "disease"},
			{Vocabulary: "fda", ID: "warfarin", Name: "warfarin", Type: "drug"},
			{Vocabulary: "doid", ID: "DOID:10763", Name: "hypertension", Type: "disease", Negated: true},
			{Type: "lab"}, // not normalized: skipped
		}
	}
	raw, ids = s.chunkEntities("anything")
	require.Equal(t, []string{"DOID:552", "warfarin", "DOID:10763"}, ids, "one per concept, in order of first mention")
	var es []Entity
	require.NoError(t, json.Unmarshal(raw, &es))
	require.False(t, es[0].Negated, "negated only when every mention is")
	require.True(t, es[2].Negated)
	require.Equal(t, es, decodeEntities(raw))
	require.Empty(t, decodeEntities(nil))
}

func TestEntityFields(t *testing.T) {
	doc := map[string]string{"doc": "d1", "tag.x": "1"}
	require.Equal(t, doc, entityFields(doc, nil))
	f := entityFields(doc, []string{"DOID:552", "metformin hydrochloride", "a=b"})
	require.Equal(t, map[string]string{"doc": "d1", "tag.x": "1", "ent.DOID:552": "1", "ent.metformin hydrochloride": "1"}, f)
	require.Len(t, doc, 2, "the document's fields are not changed")
}
