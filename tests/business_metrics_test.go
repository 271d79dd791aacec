package tests

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
)

// metrics is one scrape of a gateway's /metrics, parsed.
type metrics map[string]*dto.MetricFamily

func (s *testServer) scrape(t *testing.T) metrics {
	t.Helper()
	res, err := s.Client.GetMetricsWithResponse(context.Background())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode())
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(res.Body)))
	require.NoError(t, err)
	return fams
}

// has reports whether the family name exists (with any series).
func (m metrics) has(name string) bool {
	f, ok := m[name]
	return ok && len(f.Metric) > 0
}

// value sums the series of name whose labels include labels: counters and gauges by value,
// histograms by their count of observations.
func (m metrics) value(name string, labels ...string) float64 {
	f, ok := m[name]
	if !ok {
		return 0
	}
	var sum float64
next:
	for _, s := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range s.Label {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case s.Counter != nil:
			sum += s.Counter.GetValue()
		case s.Gauge != nil:
			sum += s.Gauge.GetValue()
		case s.Histogram != nil:
			sum += float64(s.Histogram.GetSampleCount())
		}
	}
	return sum
}

// histogramSum is the sum of the observations of a histogram's series matching labels.
func (m metrics) histogramSum(name string, labels ...string) float64 {
	f, ok := m[name]
	if !ok {
		return 0
	}
	var sum float64
	for _, s := range f.Metric {
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range s.Label {
				found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
			}
			match = match && found
		}
		if match && s.Histogram != nil {
			sum += s.Histogram.GetSampleSum()
		}
	}
	return sum
}

// Each business metric moves when its event happens, on a gateway of its own (counters
// start at zero): registrations and logins by outcome, answers with and without citations,
// citations per answer, stage latencies, tokens by model, indexing throughput and the
// knowledge-base gauges.
func TestBusinessMetrics(t *testing.T) {
	t.Parallel()
	fake := newFakeChat(t)
	fake.SetChat(func(r llmtest.Request) []string {
		if strings.Contains(r.Messages[len(r.Messages)-1].Content, "weather") {
			return []string{"I cannot tell from the sources."}
		}
		return []string{"Thiazides are first-line [1]; ", "so are ACE inhibitors [1]."}
	})
	s := startServer(t, map[string]string{
		"OPENAI_BASE_URL": fake.BaseURL(), "OPENAI_API_KEY": llmtest.APIKey, "OPENAI_CHAT_MODEL": "fake-model",
		"EMBEDDING_PROVIDER":           "offline",
		"RATE_LIMIT_REGISTER_PER_HOUR": "3",
		"RATE_LIMIT_LOGIN_PER_MINUTE":  "3",
	})
	ctx := context.Background()

	m := s.scrape(t)
	for _, name := range []string{"voiceassist_auth_logins_total", "voiceassist_auth_registrations_total", "voiceassist_rag_queries_total"} {
		require.True(t, m.has(name), "%s is exported before any event", name)
		require.Zero(t, m.value(name), name)
	}

	// Registrations: new, existing email (answered like a new one), weak password, then over
	// the per-IP limit.
	email := "biz" + randomID() + "@example.org"
	for _, pw := range []string{goodPassword, goodPassword, "short"} {
		_, err := s.Client.RegisterWithResponse(ctx, client.RegisterRequest{Email: emailAddr(email), Password: pw})
		require.NoError(t, err)
	}
	r, err := s.Client.RegisterWithResponse(ctx, client.RegisterRequest{Email: emailAddr("x" + email), Password: goodPassword})
	require.NoError(t, err)
	require.Equal(t, http.StatusTooManyRequests, r.StatusCode())

	// Logins: a success, a wrong password, an unknown email, then over the per-IP limit.
	require.Equal(t, http.StatusOK, s.login(t, email, goodPassword).StatusCode())
	require.Equal(t, http.StatusUnauthorized, s.login(t, email, "wrong-password-123").StatusCode())
	require.Equal(t, http.StatusUnauthorized, s.login(t, "nobody"+email, goodPassword).StatusCode())
	require.Equal(t, http.StatusTooManyRequests, s.login(t, email, goodPassword).StatusCode())

	m = s.scrape(t)
	for outcome, want := range map[string]float64{"success": 1, "existing_email": 1, "rejected": 1, "rate_limited": 1} {
		require.Equal(t, want, m.value("voiceassist_auth_registrations_total", "outcome", outcome), "registrations %s", outcome)
	}
	for outcome, want := range map[string]float64{"success": 1, "invalid_credentials": 2, "rate_limited": 1} {
		require.Equal(t, want, m.value("voiceassist_auth_logins_total", "outcome", outcome), "logins %s", outcome)
	}

	// Indexing throughput and the knowledge-base gauges.
	seedKB(t, s)
	m = s.scrape(t)
	require.Equal(t, 2.0, m.value("voiceassist_kb_documents_indexed_total"))
	chunks := m.value("voiceassist_kb_chunks_indexed_total")
	require.GreaterOrEqual(t, chunks, 2.0)
	require.Eventually(t, func() bool { // the gauges are read at most every 5 s
		m = s.scrape(t)
		return m.value("voiceassist_kb_documents", "status", "indexed") == 2 && m.value("voiceassist_kb_chunks", "status", "indexed") == chunks
	}, 30*time.Second, 250*time.Millisecond, "documents and chunks by status")
	for _, st := range []string{"pending", "processing", "failed"} {
		require.Contains(t, m["voiceassist_kb_documents"].String(), `value:"`+st+`"`, "every status has a series")
		require.Zero(t, m.value("voiceassist_kb_documents", "status", st))
	}

	// Answers: one citing two times the same source, one citing none.
	tok := s.token(t, s.account(t, auth.RoleUser))
	conv := s.newConversation(t, tok, nil)
	cited := s.ask(t, tok, conv.Id, "What are the first-line drugs for hypertension?")
	require.NotEmpty(t, cited.AssistantMessage.Citations)
	uncited := s.ask(t, tok, conv.Id, "What is the weather tomorrow?")
	require.Empty(t, uncited.AssistantMessage.Citations)

	m = s.scrape(t)
	require.Equal(t, 1.0, m.value("voiceassist_rag_queries_total", "citations", "with"))
	require.Equal(t, 1.0, m.value("voiceassist_rag_queries_total", "citations", "without"))
	require.Equal(t, 2.0, m.value("voiceassist_rag_citations_per_answer"))
	require.Equal(t, float64(len(cited.AssistantMessage.Citations)), m.histogramSum("voiceassist_rag_citations_per_answer"))
	for _, stage := range []string{"retrieval", "model"} {
		require.Equal(t, 2.0, m.value("voiceassist_rag_stage_duration_seconds", "stage", stage), stage)
	}
	for _, stage := range []string{"keyword", "embedding", "vector", "hydrate"} {
		require.Positive(t, m.value("voiceassist_rag_stage_duration_seconds", "stage", stage), stage)
	}
	require.Positive(t, m.value("voiceassist_llm_tokens_total", "model", "fake-model", "kind", "prompt"))
	require.Positive(t, m.value("voiceassist_llm_tokens_total", "model", "fake-model", "kind", "completion"))
	require.Less(t, m.value("voiceassist_llm_tokens_total", "kind", "completion"), m.value("voiceassist_llm_tokens_total", "kind", "prompt"),
		"the prompt (history and question) outweighs two short answers")
}
