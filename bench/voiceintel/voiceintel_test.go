// Package voiceintel measures what the voice-intelligence capabilities (issue 20) cost a
// voice turn and the database: `make bench-voiceintel` (docs/benchmarks.md, "Voice
// intelligence per-turn overhead (issue 20)").
package voiceintel

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/voiceassist/gateway/internal/apptest"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
	"github.com/voiceassist/gateway/internal/voice"
)

// The voice tables whose growth is storage per session-hour.
var voiceTables = []string{"voice_sessions", "voice_turn_analytics", "voice_memory_sessions", "voice_memory_profiles", "voice_feedback"}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkVoiceIntelOverhead runs TURNS (default 1,000) typed turns with every
// backend.voice_* flag on and as many with all off, interleaved turn by turn over two
// sessions of one in-process gateway with fake providers of no latency, and reports the
// p50/p99 of turn start (message sent) → response.complete each way and their difference.
// Then it simulates one session-hour (HOUR_TURNS turns, a turn every 15 s: 240) with every
// flag on and a feedback, and reports the growth of the voice tables. FLAGS=analytics,memory
// turns on only those.
//
//	go test -tags "$(scripts/voice-deps.sh)" -run '^$' -bench VoiceIntel -benchtime 1x ./bench/voiceintel/
func BenchmarkVoiceIntelOverhead(b *testing.B) {
	turns, hourTurns := envInt("TURNS", 1000), envInt("HOUR_TURNS", 240)
	fake := llmtest.New(b)
	fake.SetChat(func(llmtest.Request) []string {
		return []string{"Thiazide diuretics are a first line treatment. ", "Recheck blood pressure in four weeks."}
	})
	s := apptest.Start(b, map[string]string{"LOG_LEVEL": "warn", "VOICE_FLAGS_CREATE": "true",
		"OPENAI_BASE_URL": fake.BaseURL(), "OPENAI_API_KEY": llmtest.APIKey, "PROVIDERS_TRUSTED": "true",
		"CHAT_PROVIDER": "openai", "EMBEDDING_PROVIDER": "offline", "VOICE_STT_PROVIDER": "openai", "VOICE_TTS_PROVIDER": "openai",
		"RATE_LIMIT_ENABLED": "false", "RATE_LIMIT_VOICE_RELAY_PER_MINUTE": "10000", "RATE_LIMIT_CHAT_PER_MINUTE": "10000"})
	ctx := context.Background()
	admin, _ := user(b, s, auth.RoleAdmin)
	offTok, _ := user(b, s, auth.RoleUser)
	onTok, onID := user(b, s, auth.RoleUser)
	hourTok, hourID := user(b, s, auth.RoleUser)
	// Every capability flag, by key, on for the "on" users only: the off user evaluates the
	// same flags (a rule that does not match), as a real rollout would.
	// FLAGS (capability names, comma-separated) narrows "on" to some, to attribute the cost.
	on := func(c voice.Capability) bool {
		only := os.Getenv("FLAGS")
		return only == "" || slices.Contains(strings.Split(only, ","), string(c))
	}
	for _, c := range voice.Capabilities {
		if on(c) {
			enable(b, s.URL, admin, c.FlagKey(), onID, hourID)
		}
	}

	off, onS := dial(b, s.URL, offTok), dial(b, s.URL, onTok)
	for range 20 { // warm up both paths
		off.turn(b)
		onS.turn(b)
	}
	// Turn by turn, alternating which goes first, so that drift and the other's background
	// work (stores after response.complete) fall on both alike.
	var offD, onD, diff []time.Duration
	for i := range turns {
		var a, c time.Duration
		if i%2 == 0 {
			a, c = off.turn(b), onS.turn(b)
		} else {
			c, a = onS.turn(b), off.turn(b)
		}
		offD, onD, diff = append(offD, a), append(onD, c), append(diff, c-a)
	}
	off.close()
	onS.close()
	pOff50, pOff99, pOn50, pOn99 := pct(offD, 50), pct(offD, 99), pct(onD, 50), pct(onD, 99)
	fmt.Printf("turn start -> response.complete, %d typed turns each, fake providers (no latency)\n", turns)
	fmt.Printf("  all flags off: p50 %v p99 %v\n", pOff50, pOff99)
	fmt.Printf("  all flags on:  p50 %v p99 %v\n", pOn50, pOn99)
	fmt.Printf("  overhead:      p50 %v p99 %v (median of the paired differences %v)\n", pOn50-pOff50, pOn99-pOff99, pct(diff, 50))
	b.ReportMetric(float64(pOn99-pOff99)/1e6, "p99-overhead-ms")

	// One simulated session-hour.
	size := func() map[string]int64 {
		out := map[string]int64{}
		for _, t := range voiceTables {
			var n int64
			if err := s.App.Pool.QueryRow(ctx, "SELECT pg_total_relation_size($1::regclass)", t).Scan(&n); err != nil {
				b.Fatal(err)
			}
			out[t] = n
		}
		return out
	}
	before := size()
	hour := dial(b, s.URL, hourTok)
	for range hourTurns {
		hour.turn(b)
	}
	if on(voice.CapFeedback) {
		feedback(b, s.URL, hourTok, hour.id)
	}
	hour.close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		_ = s.App.Pool.QueryRow(ctx, "SELECT count(*) FROM voice_turn_analytics WHERE session_id = $1", hour.id).Scan(&n)
		if n >= hourTurns || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	after := size()
	// The session's own rows (tuple bytes, without page and index overhead): table sizes
	// grow by whole 8 KiB pages, too coarse for one session.
	rows := map[string]string{
		"voice_sessions":        "SELECT coalesce(sum(pg_column_size(x.*)), 0) FROM voice_sessions x WHERE id = $1",
		"voice_turn_analytics":  "SELECT coalesce(sum(pg_column_size(x.*)), 0) FROM voice_turn_analytics x WHERE session_id = $1",
		"voice_memory_sessions": "SELECT coalesce(sum(pg_column_size(x.*)), 0) FROM voice_memory_sessions x WHERE session_id = $1",
		"voice_memory_profiles": "SELECT coalesce(sum(pg_column_size(x.*)), 0) FROM voice_memory_profiles x WHERE user_id = (SELECT user_id FROM voice_sessions WHERE id = $1)",
		"voice_feedback":        "SELECT coalesce(sum(pg_column_size(x.*)), 0) FROM voice_feedback x WHERE session_id = $1",
	}
	fmt.Printf("one session-hour (%d turns, every flag on, one feedback): table growth (pages) and the session's row bytes\n", hourTurns)
	var total, totalRows int64
	for _, t := range voiceTables {
		var n int64
		if err := s.App.Pool.QueryRow(ctx, rows[t], hour.id).Scan(&n); err != nil {
			b.Fatal(err)
		}
		fmt.Printf("  %-22s %+8d bytes  rows %7d bytes\n", t, after[t]-before[t], n)
		total += after[t] - before[t]
		totalRows += n
	}
	fmt.Printf("  %-22s %+8d bytes  rows %7d bytes\n", "total", total, totalRows)
	b.ReportMetric(float64(total)/1024, "KiB/session-hour")
	b.ReportMetric(float64(totalRows)/1024, "row-KiB/session-hour")
}

func user(b *testing.B, s *apptest.Server, role auth.Role) (string, uuid.UUID) {
	ctx := context.Background()
	u, err := s.App.Auth.CreateUser(ctx, "vi"+apptest.RandomID()+"@example.org", "bench-Passphrase-for-login-42", "", role, nil)
	if err != nil {
		b.Fatal(err)
	}
	pair, err := s.App.Auth.IssueFor(ctx, u)
	if err != nil {
		b.Fatal(err)
	}
	return pair.Access, u.ID
}

func do(b *testing.B, method, url, tok, body string) {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b.Fatalf("%s %s: %d", method, url, res.StatusCode)
	}
}

// enable turns a flag on for the listed users only (a rule on user_id, rollout 0).
func enable(b *testing.B, base, admin, key string, users ...uuid.UUID) {
	ids, _ := json.Marshal(users)
	do(b, "PATCH", base+"/api/admin/feature-flags/"+key, admin, fmt.Sprintf(
		`{"enabled":true,"rollout_percentage":0,"rules":[{"id":"bench","value":true,"conditions":[{"attribute":"user_id","operator":"in","value":%s}]}]}`, ids))
}

func feedback(b *testing.B, base, tok string, session uuid.UUID) {
	do(b, "POST", base+"/api/voice/sessions/"+session.String()+"/feedback", tok,
		`{"thumbs":"up","naturalness":4,"accuracy":5,"latency":4,"comment":"Clear answers, a little slow to start."}`)
}

// socket is a voice session client.
type socket struct {
	c  *websocket.Conn
	id uuid.UUID
}

func dial(b *testing.B, base, tok string) *socket {
	d := websocket.Dialer{Subprotocols: []string{"bearer", tok}, HandshakeTimeout: 10 * time.Second}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(base, "http")+"/api/voice/pipeline-ws", nil)
	if err != nil {
		b.Fatal(err)
	}
	s := &socket{c: c}
	if err := c.WriteJSON(map[string]any{"type": "session.init", "features": []string{"binary_audio"}}); err != nil {
		b.Fatal(err)
	}
	ready := s.until(b, "session.ready")
	s.id = uuid.MustParse(ready["session_id"].(string))
	return s
}

// until reads frames (binary audio skipped) until a JSON event of type typ.
func (s *socket) until(b *testing.B, typ string) map[string]any {
	for {
		mt, data, err := s.c.ReadMessage()
		if err != nil {
			b.Fatal(err)
		}
		if mt == websocket.BinaryMessage {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal(data, &ev); err != nil {
			b.Fatal(err)
		}
		if ev["type"] == "error" {
			b.Fatalf("voice session error: %s", data)
		}
		if ev["type"] == typ {
			return ev
		}
	}
}

// turn asks one typed question and returns the time to its response.complete.
func (s *socket) turn(b *testing.B) time.Duration {
	start := time.Now()
	if err := s.c.WriteJSON(map[string]any{"type": "message", "content": "What is the first line treatment for hypertension? I prefer metric units."}); err != nil {
		b.Fatal(err)
	}
	s.until(b, "response.complete")
	return time.Since(start)
}

func (s *socket) close() {
	_ = s.c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	_ = s.c.Close()
}

// pct is the p-th percentile (nearest rank) of ds.
func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(i-1, 0)]
}
