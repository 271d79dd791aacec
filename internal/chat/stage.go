package chat

import "context"

type stageKey struct{}

// WithStageMarks returns a context whose answers tell mark when a stage ("retrieval") of
// the answer begins (done false) and when it ends successfully (done true). Per call, unlike
// Options.Stage: a voice turn times its own retrieval with its own clock.
func WithStageMarks(ctx context.Context, mark func(stage string, done bool)) context.Context {
	return context.WithValue(ctx, stageKey{}, mark)
}

func mark(ctx context.Context, stage string, done bool) {
	if f, ok := ctx.Value(stageKey{}).(func(string, bool)); ok {
		f(stage, done)
	}
}
