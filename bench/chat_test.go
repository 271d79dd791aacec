package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/voiceassist/gateway/internal/app"
	"github.com/voiceassist/gateway/internal/apptest"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/embed"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
	"github.com/voiceassist/gateway/internal/ssetest"
)

// fakeModel streams a fixed answer in the OpenAI chat.completion.chunk format, with no
// thinking time: the benchmark measures what the gateway adds, not a model.
func fakeModel(b *testing.B) *llmtest.Server {
	m := llmtest.New(b)
	m.SetChat(func(llmtest.Request) []string { return []string{"Thiazides ", "are ", "first-line [1]."} })
	return m
}

// firstData posts body to url and returns the time until the first SSE event that first
// accepts, then drains the stream.
func firstData(ctx context.Context, url, tok, body string, first func(ssetest.Event) bool) (time.Duration, error) {
	req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		return 0, fmt.Errorf("%s: %d %s", url, res.StatusCode, b)
	}
	r := ssetest.NewReader(res.Body)
	var ttft time.Duration
	for {
		ev, err := r.Next()
		if err != nil {
			break
		}
		if ttft == 0 && first(ev) {
			ttft = time.Since(start)
		}
	}
	if ttft == 0 {
		return 0, fmt.Errorf("%s: no first event", url)
	}
	return ttft, nil
}

// BenchmarkChatTTFTOverhead measures the time to first token of the same fake streaming model
// called directly, through POST /conversations/{id}/messages/stream (history load, question
// insert, hybrid retrieval, prompt, model call, SSE relay) and through a `message` on /ws,
// interleaved, and reports p50/p99 of each and of the per-round difference from the direct call. Run:
// go test -run '^$' -bench ChatTTFTOverhead -benchtime 1x ./bench/
func BenchmarkChatTTFTOverhead(b *testing.B) {
	model := fakeModel(b)
	s := apptest.Start(b, map[string]string{"LOG_LEVEL": "warn", "OPENAI_BASE_URL": model.BaseURL(), "OPENAI_API_KEY": llmtest.APIKey,
		"OPENAI_CHAT_MODEL": "fake"}, app.WithEmbedder(embed.NewHashing(embed.DefaultDim)))
	ctx := context.Background()
	u, err := s.App.Auth.CreateUser(ctx, "ttft"+apptest.RandomID()+"@example.org", "bench-Passphrase-for-login-42", "", auth.RoleAdmin, nil)
	if err != nil {
		b.Fatal(err)
	}
	pair, err := s.App.Auth.IssueFor(ctx, u)
	if err != nil {
		b.Fatal(err)
	}
	tok := pair.Access
	post := func(path, body string) map[string]any {
		req, _ := http.NewRequest("POST", s.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		if res.StatusCode >= 300 {
			b.Fatalf("%s: %d %v", path, res.StatusCode, out)
		}
		return out
	}
	for _, d := range []string{
		`{"title":"Hypertension","text":"# Hypertension\n\n## Treatment\n\nThiazide diuretics, ACE inhibitors and calcium channel blockers are first-line drugs."}`,
		`{"title":"Asthma","text":"# Asthma\n\nInhaled corticosteroids control persistent asthma."}`,
	} {
		post("/api/admin/kb/documents", d)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		res := post("/api/kb/search", `{"query":"thiazide asthma","mode":"keyword"}`)
		if hits := res["data"].(map[string]any)["hits"].([]any); len(hits) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("knowledge base not indexed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	direct := `{"model":"fake","stream":true,"messages":[{"role":"user","content":"What are first-line drugs for hypertension?"}]}`
	ws, _, err := (&websocket.Dialer{Subprotocols: []string{"bearer", tok}}).Dial("ws"+strings.TrimPrefix(s.URL, "http")+"/ws", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	readUntil := func(typ string) {
		for {
			var ev map[string]any
			if err := ws.ReadJSON(&ev); err != nil {
				b.Fatal(err)
			}
			if ev["type"] == "error" {
				b.Fatalf("ws error: %v", ev)
			}
			if ev["type"] == typ {
				return
			}
		}
	}
	readUntil("connected")
	// viaWS joins a fresh conversation, then times a question to its first delta.
	viaWS := func(conv, question string) time.Duration {
		_ = ws.WriteJSON(map[string]any{"type": "join", "conversation_id": conv})
		readUntil("history")
		start := time.Now()
		_ = ws.WriteJSON(map[string]any{"type": "message", "conversation_id": conv, "content": question})
		readUntil("message.delta")
		t := time.Since(start)
		readUntil("message.done")
		_ = ws.WriteJSON(map[string]any{"type": "leave", "conversation_id": conv})
		return t
	}
	const n = 300
	for i := 0; i < b.N; i++ {
		var d, g, diff, w, wdiff []time.Duration
		for j := 0; j < n+20; j++ {
			// A different question each round: retrieval and query embedding miss the cache.
			question := fmt.Sprintf("What are first-line drugs for hypertension in patient %d?", j)
			conv := post("/conversations", `{}`)["data"].(map[string]any)["id"].(string)
			td, err := firstData(ctx, model.BaseURL()+"/chat/completions", llmtest.APIKey, direct, func(ev ssetest.Event) bool { return ev.Data != "" })
			if err != nil {
				b.Fatal(err)
			}
			tg, err := firstData(ctx, s.URL+"/conversations/"+conv+"/messages/stream", tok,
				fmt.Sprintf(`{"content":%q}`, question), func(ev ssetest.Event) bool { return ev.Event == "message.delta" })
			if err != nil {
				b.Fatal(err)
			}
			tw := viaWS(post("/conversations", `{}`)["data"].(map[string]any)["id"].(string), question+" (ws)")
			if j < 20 {
				continue // warm-up
			}
			d, g, diff = append(d, td), append(g, tg), append(diff, tg-td)
			w, wdiff = append(w, tw), append(wdiff, tw-td)
		}
		b.ReportMetric(ms(pct(d, 50)), "direct-p50-ms")
		b.ReportMetric(ms(pct(d, 99)), "direct-p99-ms")
		b.ReportMetric(ms(pct(g, 50)), "gateway-p50-ms")
		b.ReportMetric(ms(pct(g, 99)), "gateway-p99-ms")
		b.ReportMetric(ms(pct(diff, 50)), "overhead-p50-ms")
		b.ReportMetric(ms(pct(diff, 99)), "overhead-p99-ms")
		b.ReportMetric(ms(pct(w, 50)), "ws-p50-ms")
		b.ReportMetric(ms(pct(w, 99)), "ws-p99-ms")
		b.ReportMetric(ms(pct(wdiff, 50)), "ws-overhead-p50-ms")
		b.ReportMetric(ms(pct(wdiff, 99)), "ws-overhead-p99-ms")
	}
}

func pct(ds []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
