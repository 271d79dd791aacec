package dictation_test

import (
	"context"
	"testing"

	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/dbtest"
	"github.com/voiceassist/gateway/internal/dictation"
)

// BenchmarkAppendText measures one text append with an embedded command (load, parse, format,
// conditional UPDATE) against PostgreSQL, as the note grows.
func BenchmarkAppendText(b *testing.B) {
	pool := dbtest.New(b)
	u := dbtest.User(b, pool, "")
	actor := audit.Actor{ID: &u.ID}
	s := dictation.NewService(dictation.Config{Pool: pool})
	ctx := context.Background()
	sess, err := s.Create(ctx, actor, u.ID, dictation.CreateInput{NoteType: "soap"})
	if err != nil {
		b.Fatal(err)
	}
	v := sess.Version
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := s.AppendText(ctx, actor, u.ID, sess.ID, "blood pressure one hundred forty over ninety period new line", v)
		if err != nil {
			b.Fatal(err)
		}
		v = r.Session.Version
	}
}
