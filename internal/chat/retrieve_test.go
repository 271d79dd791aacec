package chat_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/cache"
	"github.com/voiceassist/gateway/internal/chat"
)

// source answers every query with its passages or its error, and counts calls.
type source struct {
	ps    []chat.Passage
	err   error
	calls int
}

func (s *source) Retrieve(context.Context, string, int) ([]chat.Passage, error) {
	s.calls++
	return s.ps, s.err
}

var (
	errVector  = errors.New("vector store down")
	errKeyword = errors.New("keyword index closed")
	hybridHit  = []chat.Passage{{ChunkID: "h1", Text: "hybrid"}}
	keywordHit = []chat.Passage{{ChunkID: "k1", Text: "keyword"}}
)

func retriever(primary, fallback *source) chat.FallbackRetriever {
	return chat.FallbackRetriever{Primary: primary, Fallback: fallback,
		Cache: cache.New(nil, cache.Config{}), Namespace: "kb.search", TTL: time.Minute}
}

func TestFallbackAnswersFromKeywordsAndDoesNotCacheIt(t *testing.T) {
	t.Parallel()
	primary, fallback := &source{err: errVector}, &source{ps: keywordHit}
	r := retriever(primary, fallback)

	ps, err := r.Retrieve(t.Context(), "asthma", 5)
	require.NoError(t, err)
	require.Equal(t, keywordHit, ps)

	// The vector side recovers: the next call sees it at once.
	primary.err, primary.ps = nil, hybridHit
	ps, err = r.Retrieve(t.Context(), "asthma", 5)
	require.NoError(t, err)
	require.Equal(t, hybridHit, ps)
	require.Equal(t, 2, primary.calls)
	require.Equal(t, 1, fallback.calls)
}

func TestPrimaryResultsAreCachedPerQueryAndK(t *testing.T) {
	t.Parallel()
	primary, fallback := &source{ps: hybridHit}, &source{ps: keywordHit}
	r := retriever(primary, fallback)
	for range 2 {
		ps, err := r.Retrieve(t.Context(), "asthma", 5)
		require.NoError(t, err)
		require.Equal(t, hybridHit, ps)
	}
	require.Equal(t, 1, primary.calls)
	_, err := r.Retrieve(t.Context(), "asthma", 6)
	require.NoError(t, err)
	require.Equal(t, 2, primary.calls)
	require.Zero(t, fallback.calls)
}

func TestBothFailingReturnsTheFallbackError(t *testing.T) {
	t.Parallel()
	r := retriever(&source{err: errVector}, &source{err: errKeyword})
	_, err := r.Retrieve(t.Context(), "asthma", 5)
	require.ErrorIs(t, err, errKeyword)
}

func TestNoFallbackOnceTheCallerLeft(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	fallback := &source{ps: keywordHit}
	_, err := retriever(&source{err: context.Canceled}, fallback).Retrieve(ctx, "asthma", 5)
	require.ErrorIs(t, err, context.Canceled)
	require.Zero(t, fallback.calls)
}
