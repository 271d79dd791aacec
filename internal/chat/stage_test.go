package chat

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// Stage marks reach the context's observer: retrieval began, then ended, before the model's
// first token; a failed retrieval never reports an end; without an observer nothing breaks.
func TestStageMarks(t *testing.T) {
	t.Parallel()
	var got []string
	ctx := WithStageMarks(context.Background(), func(stage string, done bool) {
		if done {
			got = append(got, stage+" done")
		} else {
			got = append(got, stage+" begin")
		}
	})
	r := &fakeRetriever{other: []Passage{passage("a", "Thiazide diuretics treat hypertension.")}}
	p := NewPipeline(&scriptModel{text: "Thiazides [1]."}, r, Options{})
	_, err := p.Answer(ctx, nil, "How is hypertension treated?", func(e Event) error {
		if e.Type == EventDelta && len(got) == 2 {
			got = append(got, "token")
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{"retrieval begin", "retrieval done", "token"}, got)

	got = nil
	failing := NewPipeline(&scriptModel{text: "x"}, &fakeRetriever{err: errors.New("index down")}, Options{})
	_, err = failing.Answer(ctx, nil, "How is hypertension treated?", nil)
	require.Error(t, err)
	require.Equal(t, []string{"retrieval begin"}, got)

	_, err = p.Answer(context.Background(), nil, "How is hypertension treated?", nil)
	require.NoError(t, err)
}
