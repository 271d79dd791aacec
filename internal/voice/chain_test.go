package voice

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeSTT and fakeTTS are scripted providers: they fail with err, or answer.
type fakeSTT struct {
	name  string
	err   error
	calls int
}

func (f *fakeSTT) Name() string { return f.name }
func (f *fakeSTT) Transcribe(context.Context, PCM, TranscribeOptions) (Transcript, error) {
	f.calls++
	if f.err != nil {
		return Transcript{}, f.err
	}
	return Transcript{Text: "hello from " + f.name}, nil
}

type fakeTTS struct {
	name   string
	voices []string
	max    int
	mu     sync.Mutex
	failAt int // fail with err from this call on (1-based); 0 = never
	err    error
	calls  []SynthesizeOptions
}

func (f *fakeTTS) Name() string { return f.name }
func (f *fakeTTS) Voices() []Voice {
	var out []Voice
	for i, v := range f.voices {
		out = append(out, Voice{Provider: f.name, ID: v, Default: i == 0})
	}
	return out
}
func (f *fakeTTS) MaxChars() int { return f.max }
func (f *fakeTTS) Synthesize(_ context.Context, text string, opt SynthesizeOptions) (PCM, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, opt)
	if f.failAt > 0 && len(f.calls) >= f.failAt {
		return PCM{}, f.err
	}
	return PCM{Samples: make([]int16, len(text)), Rate: SampleRate}, nil
}

func TestIsRetryable(t *testing.T) {
	t.Parallel()
	for _, err := range []error{ErrUnavailable, ErrOverloaded, ErrTransient, fmt.Errorf("openai: %w", ErrTransient)} {
		require.True(t, IsRetryable(err), "%v", err)
	}
	for _, err := range []error{nil, ErrInvalidInput, ErrUndecodable, ErrTooLong, ErrUnsupportedContainer,
		context.Canceled, errors.New("boom"), fmt.Errorf("%w: %w", ErrTransient, context.Canceled)} {
		require.False(t, IsRetryable(err), "%v", err)
	}
}

func TestSTTChain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	first, second := &fakeSTT{name: "a"}, &fakeSTT{name: "b"}
	tr, route, err := NewSTTChain(first, second).Transcribe(ctx, PCM{}, TranscribeOptions{})
	require.NoError(t, err)
	require.Equal(t, Route{Provider: "a"}, route)
	require.Equal(t, "a", tr.Provider)
	require.Zero(t, second.calls)

	for _, retryable := range []error{ErrUnavailable, ErrOverloaded, fmt.Errorf("timeout: %w", ErrTransient)} {
		first, second := &fakeSTT{name: "a", err: retryable}, &fakeSTT{name: "b"}
		tr, route, err := NewSTTChain(first, second).Transcribe(ctx, PCM{}, TranscribeOptions{})
		require.NoError(t, err)
		require.Equal(t, "hello from b", tr.Text)
		require.Equal(t, "b", route.Provider)
		require.True(t, route.Fallback)
		require.Len(t, route.Failed, 1)
		require.ErrorIs(t, route.Failed[0], retryable)
	}

	for _, final := range []error{ErrInvalidInput, ErrUndecodable, ErrTooLong} {
		first, second := &fakeSTT{name: "a", err: final}, &fakeSTT{name: "b"}
		_, _, err := NewSTTChain(first, second).Transcribe(ctx, PCM{}, TranscribeOptions{})
		require.ErrorIs(t, err, final)
		require.Zero(t, second.calls, "no fallback on %v", final)
	}

	// All fail: an overloaded provider wins (503 + Retry-After), else the last error.
	_, _, err = NewSTTChain(&fakeSTT{name: "a", err: ErrOverloaded}, &fakeSTT{name: "b", err: ErrUnavailable}).
		Transcribe(ctx, PCM{}, TranscribeOptions{})
	require.ErrorIs(t, err, ErrOverloaded)
	_, _, err = NewSTTChain(&fakeSTT{name: "a", err: ErrTransient}, &fakeSTT{name: "b", err: ErrUnavailable}).
		Transcribe(ctx, PCM{}, TranscribeOptions{})
	require.ErrorIs(t, err, ErrUnavailable)
	_, _, err = NewSTTChain().Transcribe(ctx, PCM{}, TranscribeOptions{})
	require.ErrorIs(t, err, ErrUnavailable)

	// A cancelled caller is not retried elsewhere.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	second = &fakeSTT{name: "b"}
	_, _, err = NewSTTChain(&fakeSTT{name: "a", err: ErrTransient}, second).Transcribe(cctx, PCM{}, TranscribeOptions{})
	require.ErrorIs(t, err, ErrTransient)
	require.Zero(t, second.calls)
}

func TestTTSChain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cloud := &fakeTTS{name: "cloud", voices: []string{"alloy", "nova"}, max: 4096, failAt: 1, err: ErrUnavailable}
	local := &fakeTTS{name: "local", voices: []string{"kal16", "slt"}, max: 10000}
	chain := NewTTSChain(cloud, local)
	require.Equal(t, 4096, chain.MaxChars())
	require.Len(t, chain.Voices(), 4)

	// The cloud is down: the local provider answers in its default voice.
	p, route, err := chain.Synthesize(ctx, "hello", SynthesizeOptions{Voice: "nova"})
	require.NoError(t, err)
	require.Len(t, p.Samples, 5)
	require.Equal(t, "local", route.Provider)
	require.True(t, route.Fallback)
	require.Equal(t, "nova", cloud.calls[0].Voice)
	require.Empty(t, local.calls[0].Voice, "fallback uses its default voice")

	// A voice of the second provider goes there first, no fallback involved.
	_, route, err = chain.Synthesize(ctx, "hello", SynthesizeOptions{Voice: "slt"})
	require.NoError(t, err)
	require.Equal(t, Route{Provider: "local"}, route)
	require.Len(t, cloud.calls, 1)

	_, _, err = chain.Synthesize(ctx, "hello", SynthesizeOptions{Voice: "nobody"})
	require.ErrorIs(t, err, ErrInvalidInput)

	bad := &fakeTTS{name: "a", voices: []string{"v"}, max: 10, failAt: 1, err: ErrInvalidInput}
	other := &fakeTTS{name: "b", voices: []string{"w"}, max: 10}
	_, _, err = NewTTSChain(bad, other).Synthesize(ctx, "x", SynthesizeOptions{})
	require.ErrorIs(t, err, ErrInvalidInput)
	require.Empty(t, other.calls)
}

func TestTTSChainStream(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	text := "First sentence. Second one! Third?"

	// Fallback before the first byte: the first sentence fails on a, b speaks it all.
	a := &fakeTTS{name: "a", voices: []string{"v"}, max: 100, failAt: 1, err: ErrOverloaded}
	b := &fakeTTS{name: "b", voices: []string{"w"}, max: 100}
	var got []int
	route, err := NewTTSChain(a, b).SynthesizeStream(ctx, text, SynthesizeOptions{}, func(p PCM, _ Route) error {
		got = append(got, len(p.Samples))
		return nil
	}, 0)
	require.NoError(t, err)
	require.Equal(t, "b", route.Provider)
	require.True(t, route.Fallback)
	require.Equal(t, []int{len("First sentence."), len("Second one!"), len("Third?")}, got)

	// After the first byte: a failure ends the stream, no switch of voice mid-way.
	a = &fakeTTS{name: "a", voices: []string{"v"}, max: 100, failAt: 2, err: ErrTransient}
	b = &fakeTTS{name: "b", voices: []string{"w"}, max: 100}
	got = nil
	route, err = NewTTSChain(a, b).SynthesizeStream(ctx, text, SynthesizeOptions{}, func(p PCM, _ Route) error {
		got = append(got, len(p.Samples))
		return nil
	}, 0)
	require.ErrorIs(t, err, ErrTransient)
	require.Equal(t, Route{Provider: "a"}, route)
	require.Len(t, got, 1)
	require.Empty(t, b.calls)

	// The consumer going away stops synthesis.
	stop := errors.New("client gone")
	a = &fakeTTS{name: "a", voices: []string{"v"}, max: 100}
	_, err = NewTTSChain(a).SynthesizeStream(ctx, text, SynthesizeOptions{}, func(PCM, Route) error { return stop }, 0)
	require.ErrorIs(t, err, stop)
	require.Len(t, a.calls, 1)

	_, err = NewTTSChain(a).SynthesizeStream(ctx, "  ", SynthesizeOptions{}, func(PCM, Route) error { return nil }, 0)
	require.ErrorIs(t, err, ErrInvalidInput)
}
