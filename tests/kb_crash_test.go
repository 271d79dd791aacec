package tests

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/dbtest"
	"github.com/voiceassist/gateway/internal/embed"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
)

// fakeEmbeddings is the OpenAI-compatible embeddings server (hashing vectors under another
// model name) that, while hold is set, never answers a request containing the marker.
type fakeEmbeddings struct {
	*llmtest.Server
	mu      sync.Mutex
	hold    bool
	marker  string
	arrived chan struct{} // closed when a held request arrives
	once    sync.Once
}

func newFakeEmbeddings(t *testing.T, marker string) *fakeEmbeddings {
	f := &fakeEmbeddings{Server: llmtest.New(t), hold: true, marker: marker, arrived: make(chan struct{})}
	h := embed.NewHashing(64)
	f.SetEmbed(func(text string, _ int) []float64 {
		v := h.EmbedOne(text)
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	})
	f.SetHandler(func(_ http.ResponseWriter, r *http.Request, req llmtest.Request) bool {
		f.mu.Lock()
		hold := f.hold
		f.mu.Unlock()
		if !hold || !strings.Contains(strings.Join(req.Input, " "), f.marker) {
			return false
		}
		f.once.Do(func() { close(f.arrived) })
		select {
		case <-r.Context().Done():
		case <-f.Done():
		}
		return true
	})
	return f
}

// A process killed (SIGKILL) in the middle of indexing leaves nothing of the document
// searchable; another process takes the job over once it is overdue and indexes it.
func TestKBIndexingSurvivesACrash(t *testing.T) {
	t.Parallel()
	fake := newFakeEmbeddings(t, "crashmarker")
	dbURL := dbtest.NewURL(t)
	env := map[string]string{
		"DATABASE_URL": dbURL, "EMBEDDING_PROVIDER": "openai", "OPENAI_BASE_URL": fake.BaseURL(), "OPENAI_API_KEY": llmtest.APIKey,
		"OPENAI_EMBEDDING_MODEL": "fake-embed", "EMBEDDING_DIM": "64", "KB_JOB_TIMEOUT_SECONDS": "5",
		"CHAT_PROVIDER": "offline", "KB_INDEX_WORKERS": "1", "JWT_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
	}

	// Process A: the real binary, whose indexing job hangs inside the embedding call.
	a := startBinary(t, env)

	// Process B: an in-process server on the same database, without workers until A is dead.
	b := startServer(t, map[string]string{"DATABASE_URL": dbURL, "EMBEDDING_PROVIDER": "openai", "OPENAI_BASE_URL": fake.BaseURL(),
		"OPENAI_API_KEY": llmtest.APIKey, "OPENAI_EMBEDDING_MODEL": "fake-embed", "EMBEDDING_DIM": "64", "KB_JOB_TIMEOUT_SECONDS": "5",
		"KB_INDEX_WORKERS": "0"})
	acct := b.account(t, auth.RoleAdmin)
	admin := b.token(t, acct)
	var text strings.Builder
	text.WriteString("# Crash test\n\n")
	for range 100 {
		text.WriteString("Oxygen saturation targets guide oxygen therapy in acute illness. ")
	}
	text.WriteString("\n\n## End\n\nThe crashmarker section.")
	d := b.addText(t, admin, "Oxygen targets", text.String())

	// A picks the job up and hangs in the embedding call: kill it there.
	select {
	case <-fake.arrived:
	case <-time.After(60 * time.Second):
		t.Fatal("process A never started indexing")
	}
	require.NoError(t, a.cmd.Process.Kill())
	_ = a.cmd.Wait()

	g, err := b.Client.GetKbDocumentWithResponse(context.Background(), d.Id, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, client.KbDocumentStatusProcessing, g.JSON200.Data.Status, "A died while processing")
	out := b.kbSearch(t, admin, client.KbSearchRequest{Query: "oxygen saturation targets", Mode: mode(client.Keyword)})
	require.Empty(t, out.Hits, "nothing of a half-indexed document is searchable")
	n, err := b.App.KB.IndexCounts(context.Background())
	require.NoError(t, err)
	require.Zero(t, n.Keyword)

	// A third process with workers takes the overdue job over (River's rescuer) and indexes it.
	fake.mu.Lock()
	fake.hold = false
	fake.mu.Unlock()
	c := startServer(t, map[string]string{"DATABASE_URL": dbURL, "EMBEDDING_PROVIDER": "openai", "OPENAI_BASE_URL": fake.BaseURL(),
		"OPENAI_API_KEY": llmtest.APIKey, "OPENAI_EMBEDDING_MODEL": "fake-embed", "EMBEDDING_DIM": "64", "KB_JOB_TIMEOUT_SECONDS": "5"})
	tokC := c.token(t, acct)
	deadline := time.Now().Add(90 * time.Second) // the rescuer looks every 30 s
	for {
		g, err := c.Client.GetKbDocumentWithResponse(context.Background(), d.Id, bearerAuth(tokC))
		require.NoError(t, err)
		if g.JSON200.Data.Status == client.KbDocumentStatusIndexed {
			require.GreaterOrEqual(t, g.JSON200.Data.Attempts, 2)
			break
		}
		require.True(t, time.Now().Before(deadline), "the crashed job was not taken over (status %s)", g.JSON200.Data.Status)
		time.Sleep(200 * time.Millisecond)
	}
	out = b.kbSearch(t, admin, client.KbSearchRequest{Query: "oxygen saturation targets crashmarker", Mode: mode(client.Keyword)})
	require.NotEmpty(t, out.Hits)
}
